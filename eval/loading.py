"""A trained model back from a run folder or a checkpoint file, with what it was trained on."""
import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from model.registry import create_model
from train import checkpoint
from train.checkpoint import CheckpointError
from train.run_folder import newest_run


@dataclass
class Trained:
    model: nn.Module
    classes: list[str]
    names: list[str]
    stats: dict  # channel mean/std and PCA of the training pixels
    config: dict  # the run's TrainConfig as saved
    path: Path
    sha256: str


def latest_run(runs: Path = Path("runs")) -> Path:
    """The most recently written run folder under runs/ (//train:alexnet's default --out)."""
    run_dir = newest_run(runs)
    if run_dir is None:
        raise CheckpointError(f"no --run or --checkpoint given, and no run folder with a checkpoint in {runs}/")
    return run_dir


# A run folder's checkpoints: the best validation top-1, the last epoch, the weights'
# mean over the last epochs (--average-epochs).
CHECKPOINTS = ("best", "last", "averaged")


def checkpoint_path(run: str | None, checkpoint_file: str | None, which: str = "best") -> Path:
    if run and checkpoint_file:
        raise CheckpointError("give either --run RUN_DIR or --checkpoint FILE, not both")
    if not run and not checkpoint_file:
        run = str(latest_run())
    if checkpoint_file:
        return Path(checkpoint_file)
    path = Path(run) / f"{which}.pt"
    if not path.is_file() and which == "averaged" and (Path(run) / "last.pt").is_file():
        raise CheckpointError(f"{path} does not exist: {run} was not trained with --average-epochs, or has not "
                              "reached its averaged epochs yet")
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist; is {run} a run folder of //train:alexnet?")
    return path


def load_trained(path: Path, device: torch.device) -> Trained:
    state = checkpoint.load(path, device)
    missing = {"model", "config", "classes", "names", "stats"} - set(state)
    if missing:
        raise CheckpointError(f"{path} is not a //train:alexnet checkpoint (no {', '.join(sorted(missing))})")
    config = state["config"]
    model = create_model(config["model"], len(state["classes"]), dropout=config["dropout"], init=config["init"])
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise CheckpointError(f"{path} does not fit model {config['model']!r}: {str(error).splitlines()[0]}") from None
    model.to(device, memory_format=torch.channels_last).eval()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Trained(model, state["classes"], state["names"], state["stats"], config, path, digest)
