"""Run folders for the tools that train many runs or compare them: train one to its end, read one back.

A run folder is what //train:alexnet writes: config.json, metrics.jsonl (a row per
finished epoch), last.pt and best.pt. The tools keep one run per folder they own, so a
command run again skips what finished and resumes what was cut short.
"""
import argparse
import json
from pathlib import Path

from train import alexnet
from train.config import NOT_THE_RECIPE, TrainConfig, given_flags
from train.run_folder import DIVERGED


class RunError(Exception):
    pass


def read_run(folder: Path) -> tuple[dict, list[dict]]:
    """(config, metrics rows) of a run folder with at least one finished epoch."""
    config_path, metrics_path = folder / "config.json", folder / "metrics.jsonl"
    if not config_path.is_file() or not metrics_path.is_file():
        raise RunError(f"{folder} is not a run folder (it needs config.json and metrics.jsonl)")
    try:
        config = json.loads(config_path.read_text())
        rows = [json.loads(line) for line in metrics_path.read_text().splitlines() if line.strip()]
    except json.JSONDecodeError as error:
        raise RunError(f"{folder}: unreadable config.json or metrics.jsonl ({error})") from None
    if not rows:
        raise RunError(f"{metrics_path} has no finished epoch yet")
    return config, rows


def diverged(run_dir: Path) -> str | None:
    """Why the run stopped on a loss that was no longer finite, or None if it did not."""
    marker = run_dir / DIVERGED
    return marker.read_text().strip() if marker.is_file() else None


def check_same_run(run_dir: Path, trainer_args: list[str]) -> None:
    """A run found in a tool's folder is kept only if these flags would train it: the same recipe
    and seed (paths, devices and worker counts may differ)."""
    try:
        saved = TrainConfig.load(run_dir / "config.json")  # as --resume reads it
    except (json.JSONDecodeError, TypeError) as error:
        raise RunError(f"{run_dir}: unreadable config.json ({error})") from None
    for field, value in given_flags(trainer_args).items():
        if (field not in NOT_THE_RECIPE or field == "seed") and getattr(saved, field) != value:
            raise RunError(f"{run_dir} was trained with {field}={getattr(saved, field)!r}, not {value!r}: give the "
                           "tool another --out, or move that run away")


def train_to_end(folder: Path, trainer_args: list[str], allow_diverged: bool = False) -> Path:
    """The run folder under folder, trained to its last epoch: skipped if done, resumed if cut short.
    A run that diverged is done too (a resume would replay it), but only a caller that allows
    it, a learning-rate sweep, gets it back; for the rest it is an error."""
    def newest() -> Path | None:  # the names end in their start time
        return max((p for p in folder.glob("*") if (p / "config.json").exists()), default=None)

    def train(flags: list[str]) -> Path:
        try:
            alexnet.train(given_flags([*flags, "--quiet"]))
        except alexnet.ERRORS as error:
            run_dir = newest()
            if run_dir is None or diverged(run_dir) is None:
                raise RunError(f"training in {folder} failed: {error}") from None
            if not allow_diverged:
                raise RunError(f"{run_dir} diverged: {diverged(run_dir)}") from None
        return newest()

    run_dir = newest()
    if run_dir is not None:
        check_same_run(run_dir, trainer_args)
        if diverged(run_dir) is not None:
            if not allow_diverged:
                raise RunError(f"{run_dir} diverged: {diverged(run_dir)}")
            return run_dir
        epochs = json.loads((run_dir / "config.json").read_text())["epochs"]
        metrics = run_dir / "metrics.jsonl"
        done = len(metrics.read_text().splitlines()) if metrics.exists() else 0
        if done >= epochs:
            return run_dir
        if (run_dir / "last.pt").exists():
            return train([f"--resume={run_dir}"])
    return train([*trainer_args, f"--out={folder}"])


def best_top1(rows: list[dict]) -> float:
    """The best centre-crop validation top-1 of a run, in percent."""
    return 100 * max(row["val_top1"] for row in rows)


def parse_seeds(text: str) -> list[int]:
    """--seeds: at least two different seeds, the least a spread needs."""
    try:
        seeds = [int(value) for value in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes comma-separated integers, got {text!r}") from None
    if len(set(seeds)) < 2 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"needs at least two different seeds, each once, got {text!r}")
    return seeds
