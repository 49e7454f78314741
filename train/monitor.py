"""What a person watching a run sees and keeps: metrics, plots, and loud warnings."""
import json
import math
import time
from pathlib import Path

import torch


def collapse_warnings(predicted_counts: torch.Tensor, val_loss: float, names: list[str],
                      settings: dict | None = None) -> list[str]:
    """Signs that the network predicts (nearly) one class or nothing at all, with advice that fits
    the run's settings (its TrainConfig as a dict: shuffle, init, lr)."""
    classes = len(predicted_counts)
    total = int(predicted_counts.sum())
    warnings = []
    top = int(predicted_counts.argmax())
    share = int(predicted_counts[top]) / max(total, 1)
    if share > 0.5:
        warnings.append(f"{share:.0%} of validation images are predicted as one class ({names[top]})")
    if abs(val_loss - math.log(classes)) < 0.01 * math.log(classes):
        warnings.append(f"validation loss {val_loss:.3f} sits at ln({classes}) = {math.log(classes):.3f}: chance level")
    if warnings:
        warnings.append("likely causes: " + "; ".join(collapse_advice(settings or {})))
    return warnings


def collapse_advice(settings: dict) -> list[str]:
    advice = []
    if settings.get("shuffle") is False:
        advice.append("the batches are class-sorted (--no-shuffle): drop that flag")
    lr = settings.get("lr")
    lower = f"a lower --lr (this run: {lr:g}, try {lr / 3:.2g})" if lr else "a lower --lr"
    if settings.get("init") == "paper":
        advice.append("the paper's N(0, 0.01) init leaves ReLUs dead: try --init kaiming")
    advice.append(f"a learning rate too high for this network: try {lower}, or --warmup-epochs 2")
    return advice


def epoch_line(row: dict, epochs: int, improved: bool) -> str:
    """An epoch's row as the one line the console shows."""
    line = (f"epoch {row['epoch']:3d}/{epochs}  train loss {row['train_loss']:.3f} "
            f"top-1 {100 * row['train_top1']:5.1f}%"
            f"  |  val loss {row['val_loss']:.3f} top-1 {100 * row['val_top1']:5.1f}% top-5 "
            f"{100 * row['val_top5']:5.1f}%  |  lr {row['lr']:.2g}  {row['images_per_s']:.0f} img/s at "
            f"{row['train_side']} px" + ("  *best" if improved else ""))
    if "val_top1_averaged" in row:
        line += f"  |  averaged weights: val top-1 {100 * row['val_top1_averaged']:5.1f}%"
    return line


class MetricsLog:
    """metrics.jsonl (one line per epoch) and loss/accuracy PNG plots, in the run folder."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / "metrics.jsonl"
        self.run_dir = run_dir

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def elapsed_before(self, start_epoch: int) -> float:
        """Drops the rows after the checkpoint a run resumes from (a resumed run rewrites them) and
        returns the training and validation seconds of the rows kept."""
        rows = [row for row in self.read() if row["epoch"] <= start_epoch]  # epochs count from 1
        self.path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        return rows[-1].get("elapsed_s", 0.0) if rows else 0.0

    def append_epoch(self, epoch: int, train: dict, side: int, epoch_equivalents: float, elapsed: float, val: dict,
                     lr: float, averaged: dict | None) -> dict:
        """Writes an epoch's row (epoch counted from 1, lr that of its last step) and redraws the plot."""
        row = {"epoch": epoch, **train, "train_side": side, "epoch_equivalents": epoch_equivalents,
               "elapsed_s": elapsed, "val_loss": val["loss"], "val_top1": val["top1"], "val_top5": val["top5"],
               "lr": lr, "wall_time": time.time()}
        if averaged:
            row.update(val_loss_averaged=averaged["loss"], val_top1_averaged=averaged["top1"],
                       val_top5_averaged=averaged["top5"])
        with open(self.path, "a") as file:
            file.write(json.dumps(row) + "\n")
        self.plot()
        return row

    def plot(self) -> None:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot

        rows = self.read()
        epochs = [row["epoch"] for row in rows]
        figure, (loss, accuracy) = pyplot.subplots(1, 2, figsize=(10, 4))
        loss.plot(epochs, [r["train_loss"] for r in rows], label="train")
        loss.plot(epochs, [r["val_loss"] for r in rows], label="validation")
        loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
        accuracy.plot(epochs, [100 * r["train_top1"] for r in rows], label="train top-1")
        accuracy.plot(epochs, [100 * r["val_top1"] for r in rows], label="val top-1")
        accuracy.plot(epochs, [100 * r["val_top5"] for r in rows], label="val top-5")
        accuracy.set(xlabel="epoch", ylabel="%", title="accuracy")
        for axes in (loss, accuracy):
            axes.legend()
            axes.grid(alpha=0.3)
        figure.tight_layout()
        figure.savefig(self.run_dir / "curves.png.tmp.png", dpi=80)
        pyplot.close(figure)
        (self.run_dir / "curves.png.tmp.png").replace(self.run_dir / "curves.png")
