"""Models by name, so training and evaluation pick one with --model.

    create_model("alexnet", num_classes=10)
    create_model("alexnet", num_classes=10, dropout=0.0)   # overrides a config field
"""
from dataclasses import replace
from typing import Callable

from torch import nn

from model.alexnet import AlexNet, AlexNetConfig
from model.baselines import MLP, SingleConv, TorchvisionAlexNet

_ALEXNETS = {
    "alexnet": AlexNetConfig(),
    "alexnet-1tower": AlexNetConfig(towers=1),
    "alexnet-nolrn": AlexNetConfig(norm="none"),
    "alexnet-rmsnorm": AlexNetConfig(norm="rmsnorm"),
    "alexnet-strideconv": AlexNetConfig(downsample="conv"),
    "alexnet-nodropout": AlexNetConfig(dropout=0.0),
}

_DESCRIPTIONS = {
    "alexnet": "the paper's network: LRN, max-pooling, dropout 0.5, two towers (grouped convs)",
    "alexnet-1tower": "the paper's network as a single tower (no grouped convolutions)",
    "alexnet-nolrn": "no local response normalisation",
    "alexnet-rmsnorm": "RMSNorm instead of LRN in the first two layers",
    "alexnet-strideconv": "3x3 stride-2 convolutions instead of max-pooling",
    "alexnet-nodropout": "no dropout",
    "mlp": "baseline: two-layer MLP with ReLU on 64x64-averaged pixels",
    "conv1": "baseline: one conv layer (AlexNet's conv1), max-pooling, a linear classifier",
    "torchvision": "torchvision.models.alexnet: the lighter one-tower layout (64-192-384-256-256), no LRN",
}


def _alexnet(name: str) -> Callable[..., nn.Module]:
    def build(num_classes: int, **overrides) -> nn.Module:
        unknown = set(overrides) - set(AlexNetConfig.__dataclass_fields__)
        if unknown:
            raise ValueError(f"model {name!r} has no option(s) {sorted(unknown)}")
        return AlexNet(replace(_ALEXNETS[name], num_classes=num_classes, **overrides))

    return build


def _baseline(cls: type, options: tuple[str, ...]) -> Callable[..., nn.Module]:
    def build(num_classes: int, **overrides) -> nn.Module:
        return cls(num_classes, **{k: v for k, v in overrides.items() if k in options})

    return build


_BUILDERS: dict[str, Callable[..., nn.Module]] = {name: _alexnet(name) for name in _ALEXNETS}
_BUILDERS["mlp"] = _baseline(MLP, ("dropout",))
_BUILDERS["conv1"] = _baseline(SingleConv, ("dropout",))
_BUILDERS["torchvision"] = _baseline(TorchvisionAlexNet, ("dropout",))


def model_names() -> list[str]:
    return list(_BUILDERS)


def describe_models() -> str:
    return "\n".join(f"  {name:20s} {_DESCRIPTIONS[name]}" for name in _BUILDERS)


def create_model(name: str, num_classes: int, **overrides) -> nn.Module:
    """Builds the named model; AlexNet variants accept AlexNetConfig fields as overrides.

    Baselines take only the options they have (dropout) and ignore AlexNet's, so one
    training command line can drive every model.
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}; known models:\n{describe_models()}")
    return _BUILDERS[name](num_classes, **overrides)
