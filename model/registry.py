"""Models by name, so training and evaluation pick one with --model.

    create_model("alexnet", num_classes=10)
    create_model("alexnet", num_classes=10, dropout=0.0)   # overrides a config field
"""
from dataclasses import replace

from torch import nn

from model.alexnet import AlexNet, AlexNetConfig
from model.baselines import MLP, SingleConv, TorchvisionAlexNet

# Each model: an AlexNetConfig, or a baseline's class (which takes only dropout), and what it is.
MODELS = {
    "alexnet": (AlexNetConfig(), "the paper's network: LRN, max-pooling, dropout 0.5, two towers (grouped convs)"),
    "alexnet-1tower": (AlexNetConfig(towers=1), "the paper's network as a single tower (no grouped convolutions)"),
    "alexnet-nolrn": (AlexNetConfig(norm="none"), "no local response normalisation"),
    "alexnet-rmsnorm": (AlexNetConfig(norm="rmsnorm"), "RMSNorm instead of LRN in the first two layers"),
    "alexnet-strideconv": (AlexNetConfig(downsample="conv"), "3x3 stride-2 convolutions instead of max-pooling"),
    "alexnet-nodropout": (AlexNetConfig(dropout=0.0), "no dropout"),
    "mlp": (MLP, "baseline: two-layer MLP with ReLU on 64x64-averaged pixels"),
    "conv1": (SingleConv, "baseline: one conv layer (AlexNet's conv1), max-pooling, a linear classifier"),
    "torchvision": (TorchvisionAlexNet, "torchvision.models.alexnet: the lighter one-tower layout "
                                        "(64-192-384-256-256), no LRN"),
}


def model_names() -> list[str]:
    return list(MODELS)


def describe_models() -> str:
    return "\n".join(f"  {name:20s} {description}" for name, (_, description) in MODELS.items())


def create_model(name: str, num_classes: int, **overrides) -> nn.Module:
    """Builds the named model; AlexNet variants accept AlexNetConfig fields as overrides.

    Baselines take only the options they have (dropout) and ignore AlexNet's, so one
    training command line can drive every model.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models:\n{describe_models()}")
    built = MODELS[name][0]
    if not isinstance(built, AlexNetConfig):
        return built(num_classes, **{k: v for k, v in overrides.items() if k == "dropout"})
    unknown = set(overrides) - set(AlexNetConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"model {name!r} has no option(s) {sorted(unknown)}")
    return AlexNet(replace(built, num_classes=num_classes, **overrides))
