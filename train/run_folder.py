"""A run folder: its name, what is written into it at the end of each epoch, and resuming it.

    runs/alexnet-imagenette-20261126-093000/
        config.json     every setting (train/config.py)
        metrics.jsonl   a row per finished epoch
        curves.png      loss and accuracy against epochs
        last.pt         the checkpoint of the last finished epoch (train/checkpoint.py)
        best.pt         the same file as the last.pt of the best validation epoch
        averaged.pt     with --average-epochs: the weights' mean, loadable by //eval
        diverged.txt    why the loss stopped being finite, if it did
"""
import time
from pathlib import Path

from train import checkpoint
from train.checkpoint import CheckpointError
from train.config import RESUME_MAY_CHANGE, TrainConfig, check, ConfigError

# Resuming a run that diverged would replay the same steps from its last good checkpoint,
# so tools that sweep learning rates read this file as an outcome.
DIVERGED = "diverged.txt"


def new_run_dir(config: TrainConfig) -> Path:
    run_dir = Path(config.out) / f"{config.model}-{config.dataset}-{time.strftime('%Y%m%d-%H%M%S')}"
    suffix = 1
    while run_dir.exists():
        run_dir = run_dir.with_name(f"{run_dir.name.split('+')[0]}+{suffix}")
        suffix += 1
    run_dir.mkdir(parents=True)
    return run_dir


def newest_run(folder: Path) -> Path | None:
    """The run folder under folder whose checkpoint was written last (a --out folder's newest run)."""
    checkpoints = sorted(folder.glob("*/last.pt"), key=lambda path: path.stat().st_mtime)
    return checkpoints[-1].parent if checkpoints else None


def find_run(folder: Path) -> Path:
    """folder itself if it is a run folder; given a --out folder, its newest run with a checkpoint."""
    if (folder / "config.json").is_file():
        return folder
    run_dir = newest_run(folder)
    if run_dir is None:
        raise CheckpointError(f"{folder} is neither a run folder (no config.json) nor a folder of runs")
    print(f"{folder} holds runs; resuming the newest, {run_dir}")
    return run_dir


def resumed_config(given: dict) -> TrainConfig:
    """The saved config of the run in given["resume"], with the flags given that may change on a
    resume; any other flag given must agree with what the run was trained with."""
    run_dir = find_run(Path(given["resume"]))
    saved = TrainConfig.load(run_dir / "config.json")
    for field, value in given.items():
        if field not in RESUME_MAY_CHANGE and value != getattr(saved, field):
            raise CheckpointError(f"{run_dir} was trained with {field}={getattr(saved, field)!r}; resuming cannot "
                                  f"change it to {value!r} (start a new run instead)")
    for field in RESUME_MAY_CHANGE:
        if field in given:
            setattr(saved, field, given[field])
    saved.stop_after = given.get("stop_after")  # a part's stopping point is not the next part's
    saved.resume = str(run_dir)
    try:
        check(saved)
    except ConfigError as error:
        raise CheckpointError(f"resuming {run_dir}: {error}") from None
    return saved


def save_checkpoints(run_dir: Path, state: dict, improved: bool, averaged_model: dict | None) -> None:
    """last.pt; best.pt made the same file when the epoch improved; averaged.pt with the weights'
    mean in place of the weights (what //eval needs, no optimizer)."""
    checkpoint.save(state, run_dir / "last.pt")
    if improved:
        checkpoint.link(run_dir / "last.pt", run_dir / "best.pt")
    if averaged_model is not None:
        keep = ("config", "classes", "names", "stats", "epoch")
        checkpoint.save({**{k: state[k] for k in keep}, "model": averaged_model}, run_dir / "averaged.pt")
