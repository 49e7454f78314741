"""Every setting of a training run, declared once: its type, default, help, whether it is part of
the recipe, and whether a resumed run may change it. argparse is built from the declarations;
a run saves the result as config.json."""
import argparse
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from data.cache_build import default_format
from data.datasets import DATASETS
from model.registry import describe_models, model_names
from train import resolution

# What each recipe changes from the paper's (docs/RESULTS.md has their runs); each stays a
# flag of its own, and a flag given on the command line wins.
FAST = {
    "epochs": 24,
    "lr": 0.02,
    "schedule": "linear",
    "warmup_epochs": 2,
    "label_smoothing": 0.1,
    "res_schedule": "1:128,13:176,21:224",  # 24 epochs cost 12.9 epoch-equivalents
}
RECIPES = {
    "paper": {},
    "fast": FAST,
    # The fast recipe's shape over three times its epochs, 12 of them at 224 at the end.
    "long": {**FAST, "epochs": 72, "res_schedule": "1:128,37:176,61:224"},  # 38.6 epoch-equivalents
}


def at_least(kind, low, strict: bool = False):
    """An argparse type: kind(text), refused below low (or at it, if strict)."""
    def parse(text: str):
        value = kind(text)
        if value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"must be {'positive' if strict else f'at least {low}'}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its "invalid value" message
    return parse


def positive(kind):
    return at_least(kind, 0, strict=True)


def fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def setting(default, help: str, parse=None, choices=None, recipe: bool = True, resume_may_change: bool = False,
            metavar: str | None = None):
    """A TrainConfig field. recipe=False: it says where or how a run ran, not what it trained
    (runs that differ only in such settings are seeds of one recipe); resume_may_change: a
    resumed run may be given another value."""
    return dataclasses.field(default=default, metadata=dict(
        help=help, parse=parse, choices=choices, recipe=recipe, resume_may_change=resume_may_change, metavar=metavar))


@dataclass
class TrainConfig:
    recipe: str = setting("paper", "paper: the paper's schedule; " + "; ".join(
        f"{name}: " + ", ".join(f"--{k.replace('_', '-')}={v}" for k, v in knobs.items())
        for name, knobs in RECIPES.items() if knobs), choices=tuple(RECIPES))
    dataset: str = setting("imagenette", "which dataset (folder: any train/ val/ tree)", choices=tuple(DATASETS))
    data_dir: str | None = setting(None, "folder with train/ and val/ (or where Imagenette is downloaded)",
                                   recipe=False)
    cache_dir: str | None = setting(None, "cache folder, built on first use (default: "
                                    "~/.cache/alexnet/cache/<dataset>-<source hash>[-jpeg])", recipe=False)
    cache_format: str = setting("auto", "uint8: 196,608 bytes an image, read as is; jpeg: 256x256 JPEGs at quality "
                                "90, decoded each epoch by CPU threads or, on CUDA, by nvJPEG; auto: jpeg for "
                                "ImageNet, else uint8", choices=("auto", "uint8", "jpeg"))
    model: str = setting("alexnet", "one of: " + ", ".join(model_names()))
    init: str = setting("kaiming", "paper: N(0, 0.01), biases 1 in conv2/4/5 and fc6/7 (diverged at lr 0.01 "
                        "here); torch: PyTorch's layer defaults", choices=("paper", "kaiming", "torch"))
    dropout: float = setting(0.5, "dropout before fc6 and fc7", parse=fraction)
    epochs: int | None = setting(None, "default: 90 ImageNet, 60 Imagenette, 20 sample", parse=positive(int),
                                 resume_may_change=True)
    batch_size: int | None = setting(None, "default: 128 (the paper), 32 for the sample", parse=positive(int))
    lr: float = setting(0.01, "learning rate after the warm-up", parse=positive(float))
    momentum: float = setting(0.9, "SGD momentum", parse=fraction)
    weight_decay: float = setting(5e-4, "L2 weight decay", parse=at_least(float, 0))
    schedule: str = setting("plateau", "plateau: /10 when the validation error stalls (the paper); step: /10 every "
                            "30 epochs; cosine; linear: after the warm-up, a straight line to 0 at the last step",
                            choices=("plateau", "step", "cosine", "linear"))
    patience: int = setting(4, "plateau: epochs without improvement before /10", parse=positive(int))
    # The paper has none; epoch 1: 13.5% top-1 without, 35.0% with (docs/RESULTS.md).
    warmup_epochs: int = setting(1, "epochs of linear learning-rate warm-up", parse=at_least(int, 0))
    label_smoothing: float = setting(0.0, "share of the target spread over all classes; 0 off", parse=fraction)
    shuffle: bool = setting(True, "--no-shuffle: class-sorted batches (ablation)")
    flip: bool = setting(True, "random mirrors")
    random_crop: bool = setting(True, "--no-random-crop trains on centre crops")
    pca_lighting: float = setting(0.1, "std of the PCA lighting alphas; 0 off", parse=at_least(float, 0))
    jitter: float = setting(0.0, "brightness jitter amount; 0 off", parse=fraction)
    scale_crop: float = setting(1.0, "smallest crop area for scale-and-crop, in (0, 1]; 1 keeps the paper's "
                                "fixed-scale crops", parse=float)
    res_schedule: str = setting("", "train on smaller crops early, e.g. 1:128,9:176,14:224 (epochs from 1); "
                                "validation stays at 224; empty: 224 throughout", metavar="EPOCH:SIDE,...")
    average_epochs: int = setting(0, "average the weights over every step of the last K epochs; they validate the "
                                  "mean too, written to averaged.pt (//eval:tenpatch --which averaged); 0 off",
                                  parse=at_least(int, 0), recipe=False, metavar="K")
    seed: int = setting(0, "seed of the weights, the batch order and the augmentation", parse=int, recipe=False)
    device: str = setting("auto", "auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps", recipe=False,
                          resume_may_change=True)
    precision: str = setting("auto", "auto: bf16 autocast where the device supports it, fp16 + GradScaler on "
                             "older GPUs", choices=("auto", "fp32", "bf16", "fp16"))
    compile: bool = setting(False, "torch.compile the model", recipe=False, resume_may_change=True)
    workers: int = setting(3, "batches read ahead by the loader thread", parse=positive(int), recipe=False,
                           resume_may_change=True)
    out: str = setting("runs", "parent folder of run folders", recipe=False, resume_may_change=True)
    resume: str | None = setting(None, "run folder to continue (or a --out folder: its newest run)", recipe=False,
                                 resume_may_change=True)
    quiet: bool = setting(False, "no progress bars: one line per epoch", recipe=False, resume_may_change=True)
    max_steps: int | None = setting(None, argparse.SUPPRESS, parse=positive(int), resume_may_change=True)  # tests
    stop_after: int | None = setting(None, "end this part of the run after that epoch (schedules still span "
                                     "--epochs); continue with --resume", parse=positive(int), recipe=False,
                                     resume_may_change=True, metavar="EPOCH")
    dist_timeout: float | None = setting(None, "torchrun: how long a collective may wait, in seconds (default "
                                         "torch's: 10 min NCCL, 30 gloo); cache builds happen before, outside any "
                                         "collective", parse=positive(float), recipe=False, resume_may_change=True)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> "TrainConfig":
        saved = {"cache_format": "uint8"}  # runs from before the JPEG format read the uint8 cache
        saved.update({k: v for k, v in json.loads(path.read_text()).items() if k in FIELDS})
        return cls(**saved)


FIELDS = {field.name: field for field in dataclasses.fields(TrainConfig)}
NOT_THE_RECIPE = {name for name, field in FIELDS.items() if not field.metadata["recipe"]}
RESUME_MAY_CHANGE = {name for name, field in FIELDS.items() if field.metadata["resume_may_change"]}


def default_epochs(dataset: str) -> int:
    return {"imagenet": 90, "sample": 20}.get(dataset, 60)


def build_parser(description: str) -> argparse.ArgumentParser:
    """Every setting as a flag; a namespace holds only the flags given (argument_default=SUPPRESS),
    so a flag given at its default value is still seen as given."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     argument_default=argparse.SUPPRESS, epilog="models:\n" + describe_models())
    for name, field in FIELDS.items():
        meta, flag = field.metadata, "--" + name.replace("_", "-")
        if isinstance(field.default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=meta["help"])
        else:
            shown = meta["help"] if field.default in (None, "") or meta["help"] == argparse.SUPPRESS \
                else f"{meta['help']} (default: {field.default})"
            parser.add_argument(flag, type=meta["parse"], choices=meta["choices"], help=shown, metavar=meta["metavar"])
    return parser


def given_flags(argv: list[str] | None, description: str = "") -> dict:
    """The settings given on the command line, by field name, each checked."""
    parser = build_parser(description)
    given = vars(parser.parse_args(argv))
    if "model" in given and given["model"] not in model_names():
        parser.error(f"unknown model {given['model']!r}; known models:\n{describe_models()}")
    if not 0 < given.get("scale_crop", 1) <= 1:
        parser.error(f"--scale-crop must be in (0, 1], got {given['scale_crop']}")
    try:
        resolution.parse(given.get("res_schedule", ""))
    except resolution.ScheduleError as error:
        parser.error(f"--res-schedule: {error}")
    return given


def resolved(given: dict) -> TrainConfig:
    """The config of a new run: the recipe's values under the flags given, then the defaults
    that depend on the dataset."""
    config = TrainConfig(**{**RECIPES[given.get("recipe", "paper")], **given})
    if config.epochs is None:
        config.epochs = default_epochs(config.dataset)
    if config.batch_size is None:
        config.batch_size = 32 if config.dataset == "sample" else 128
    if config.cache_format == "auto":
        config.cache_format = default_format(config.dataset)
    check(config)
    return config


class ConfigError(ValueError):
    pass


def check(config: TrainConfig) -> None:
    """What no single flag's type can check."""
    if not 0 <= config.average_epochs <= config.epochs:
        raise ConfigError(f"--average-epochs must be from 0 to --epochs ({config.epochs}), "
                          f"got {config.average_epochs}")


def parse_config(argv: list[str] | None, description: str = "") -> TrainConfig:
    """A new run's config from a command line; bad values exit as argparse's usage errors do."""
    try:
        return resolved(given_flags(argv, description))
    except ConfigError as error:
        build_parser(description).error(str(error))
