"""Every setting of a training run, in one dataclass, from the command line; saved as config.json."""
import argparse
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from data.cache_build import default_format
from data.datasets import DATASETS
from model.registry import describe_models, model_names
from train import resolution


# What --recipe fast changes from the paper's recipe (docs/RESULTS.md has its run);
# each stays a flag of its own, and a flag given on the command line wins.
RECIPES = {
    "paper": {},
    "fast": {
        "epochs": 24,
        "lr": 0.02,
        "schedule": "linear",
        "warmup_epochs": 2,
        "label_smoothing": 0.1,
        "res_schedule": "1:128,13:176,21:224",  # 24 epochs cost 12.9 epoch-equivalents
    },
    # The fast recipe's shape over three times its epochs, 12 of them at 224 at the end.
    "long": {
        "epochs": 72,
        "lr": 0.02,
        "schedule": "linear",
        "warmup_epochs": 2,
        "label_smoothing": 0.1,
        "res_schedule": "1:128,37:176,61:224",  # 72 epochs cost 38.6 epoch-equivalents
    },
}


@dataclass
class TrainConfig:
    recipe: str = "paper"
    dataset: str = "imagenette"
    data_dir: str | None = None
    cache_dir: str | None = None  # default: ~/.cache/alexnet/cache/<dataset>-<source hash>[-jpeg]
    cache_format: str = "auto"  # jpeg for ImageNet, uint8 for the rest (data/cache_build.default_format)
    model: str = "alexnet"
    init: str = "kaiming"  # the paper's N(0, 0.01) init diverged at lr 0.01 here; see README
    dropout: float = 0.5
    epochs: int | None = None  # default: 90 for ImageNet, 60 for Imagenette, 20 for the sample
    batch_size: int | None = None  # default: 128 (the paper), 32 for the 120-image sample
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "plateau"  # the paper: divide by 10 when validation error stops improving
    patience: int = 4
    warmup_epochs: int = 1  # the paper has none; epoch 1: 13.5% top-1 without, 35.0% with (RESULTS.md)
    label_smoothing: float = 0.0
    shuffle: bool = True
    flip: bool = True
    random_crop: bool = True
    pca_lighting: float = 0.1
    jitter: float = 0.0
    scale_crop: float = 1.0
    res_schedule: str = ""  # "EPOCH:SIDE,...": progressive resizing (train/resolution.py); "" is 224 throughout
    average_epochs: int = 0  # average the weights over the last this many epochs (train/averaging.py); 0 off
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    compile: bool = False
    workers: int = 3  # batches read ahead by the loader thread
    out: str = "runs"
    resume: str | None = None
    quiet: bool = False
    max_steps: int | None = None  # stop each epoch after this many steps (smoke tests)
    stop_after: int | None = None  # end this part of the run after that epoch; --resume continues
    dist_timeout: float | None = None  # seconds a collective may wait (torchrun); torch's default if None

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> "TrainConfig":
        fields = {f.name for f in dataclasses.fields(cls)}
        saved = {"cache_format": "uint8"}  # runs from before the JPEG format read the uint8 cache
        saved.update({k: v for k, v in json.loads(path.read_text()).items() if k in fields})
        return cls(**saved)


def default_epochs(dataset: str) -> int:
    return {"imagenet": 90, "sample": 20}.get(dataset, 60)


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    return parse


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {text}")
    return value


def build_parser(description: str) -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--recipe", choices=RECIPES, default=d.recipe,
                   help="paper: the paper's schedule; " + "; ".join(
                       f"{name}: " + ", ".join(f"--{k.replace('_', '-')}={v}" for k, v in knobs.items())
                       for name, knobs in RECIPES.items() if knobs))
    p.add_argument("--dataset", choices=DATASETS, default=d.dataset)
    p.add_argument("--data-dir", help="folder with train/ and val/ (or where Imagenette is downloaded)")
    p.add_argument("--cache-dir", help="cache folder (built on first use)")
    p.add_argument("--cache-format", choices=("auto", "uint8", "jpeg"), default=d.cache_format,
                   help="uint8: 196,608 bytes an image, read as is; jpeg: 256x256 JPEGs at quality 90, decoded "
                        "each epoch by CPU threads or, on CUDA, by nvJPEG; auto: jpeg for ImageNet, else uint8")
    p.add_argument("--model", default=d.model, help="one of: " + ", ".join(model_names()))
    p.add_argument("--init", choices=("paper", "kaiming", "torch"), default=d.init,
                   help="paper: N(0, 0.01), biases 1 in conv2/4/5 and fc6/7; torch: PyTorch's layer defaults")
    p.add_argument("--dropout", type=_fraction, default=d.dropout)
    p.add_argument("--epochs", type=_positive(int), help="default: 90 ImageNet, 60 Imagenette, 20 sample")
    p.add_argument("--batch-size", type=_positive(int), help="default: 128 (the paper), 32 for the sample")
    p.add_argument("--lr", type=_positive(float), default=d.lr)
    p.add_argument("--momentum", type=_fraction, default=d.momentum)
    p.add_argument("--weight-decay", type=_non_negative, default=d.weight_decay)
    p.add_argument("--schedule", choices=("plateau", "step", "cosine", "linear"), default=d.schedule,
                   help="plateau: /10 when val error stalls (the paper); step: /10 every 30 epochs; "
                        "linear: after the warm-up, a straight line to 0 at the last step")
    p.add_argument("--patience", type=_positive(int), default=d.patience, help="plateau epochs before /10")
    p.add_argument("--warmup-epochs", type=int, default=d.warmup_epochs, help="linear LR warm-up")
    p.add_argument("--label-smoothing", type=_fraction, default=d.label_smoothing,
                   help="share of the target spread over all classes; 0 off")
    p.add_argument("--no-shuffle", dest="shuffle", action="store_false", help="class-sorted batches (ablation)")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=d.flip)
    p.add_argument("--random-crop", action=argparse.BooleanOptionalAction, default=d.random_crop,
                   help="--no-random-crop trains on centre crops")
    p.add_argument("--pca-lighting", type=_non_negative, default=d.pca_lighting, help="std of the PCA alphas; 0 off")
    p.add_argument("--jitter", type=_fraction, default=d.jitter, help="brightness jitter amount; 0 off")
    p.add_argument("--scale-crop", type=float, default=d.scale_crop,
                   help="smallest crop area for scale-and-crop; 1 keeps the paper's fixed-scale crops")
    p.add_argument("--res-schedule", default=d.res_schedule, metavar="EPOCH:SIDE,...",
                   help="train on smaller crops early, e.g. 1:128,9:176,14:224 (epochs from 1); "
                        "validation stays at 224")
    p.add_argument("--average-epochs", type=int, default=d.average_epochs, metavar="K",
                   help="average the weights over every step of the last K epochs; they validate the mean too, "
                        "written to averaged.pt (//eval:tenpatch --which averaged); 0 off")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device, help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default=d.precision,
                   help="auto: bf16 autocast where the device supports it, fp16 + GradScaler on older GPUs")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--workers", type=_positive(int), default=d.workers, help="batches read ahead")
    p.add_argument("--out", default=d.out, help="parent folder of run folders")
    p.add_argument("--resume", help="run folder to continue")
    p.add_argument("--quiet", action="store_true", help="no progress bars: one line per epoch")
    p.add_argument("--stop-after", type=_positive(int), metavar="EPOCH",
                   help="end this part of the run after that epoch (schedules still span --epochs); "
                        "continue with --resume")
    p.add_argument("--dist-timeout", type=_positive(float), metavar="SECONDS",
                   help="torchrun: how long a collective may wait (default torch's: 10 min NCCL, 30 gloo); "
                        "cache builds happen before, outside any collective")
    p.add_argument("--max-steps", type=_positive(int), help=argparse.SUPPRESS)
    p.epilog = "models:\n" + describe_models()
    return p


def parse_config(argv: list[str] | None, description: str) -> TrainConfig:
    parser = build_parser(description)
    recipe = argparse.ArgumentParser(add_help=False)
    recipe.add_argument("--recipe", choices=RECIPES, default=TrainConfig.recipe)
    known, _ = recipe.parse_known_args(argv)
    parser.set_defaults(**RECIPES[known.recipe])  # the recipe's values, unless given
    args = parser.parse_args(argv)
    if args.model not in model_names():
        parser.error(f"unknown model {args.model!r}; known models:\n{describe_models()}")
    if not 0 < args.scale_crop <= 1:
        parser.error(f"--scale-crop must be in (0, 1], got {args.scale_crop}")
    if args.warmup_epochs < 0:
        parser.error(f"--warmup-epochs must be at least 0, got {args.warmup_epochs}")
    try:
        resolution.parse(args.res_schedule)
    except resolution.ScheduleError as error:
        parser.error(f"--res-schedule: {error}")
    config = TrainConfig(**vars(args))
    if config.epochs is None:
        config.epochs = default_epochs(config.dataset)
    if not 0 <= config.average_epochs <= config.epochs:
        parser.error(f"--average-epochs must be from 0 to --epochs ({config.epochs}), got {config.average_epochs}")
    if config.cache_format == "auto":
        config.cache_format = default_format(config.dataset)
    if config.batch_size is None:
        config.batch_size = 32 if config.dataset == "sample" else 128
    return config
