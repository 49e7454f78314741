"""Error rates, confusion matrices and the written reports of an evaluation."""
import json
from pathlib import Path

import torch

from eval.methods import LABELS

def confusion_matrix(predicted: torch.Tensor, labels: torch.Tensor, classes: int) -> torch.Tensor:
    """(classes, classes): row = true class, column = predicted class."""
    return torch.bincount(labels * classes + predicted, minlength=classes * classes).reshape(classes, classes)


def write_reports(result: dict, out: Path) -> str:
    """tenpatch.json, confusion.txt and tenpatch.md; returns the Markdown summary."""
    confusion = torch.tensor(result["confusion"])
    per_class = (confusion.diag() / confusion.sum(1).clamp(min=1)).tolist()
    result = {**result, "per_class_accuracy": dict(zip(result["names"], per_class))}
    (out / "tenpatch.json").write_text(json.dumps(result, indent=1))
    width = max(len(name) for name in result["names"])
    rows = [" " * width + " " + " ".join(f"{i:>5d}" for i in range(len(per_class)))]
    rows += [f"{name:>{width}s} " + " ".join(f"{int(v):5d}" for v in row) for name, row in zip(result["names"], confusion)]
    (out / "confusion.txt").write_text("rows: true class, columns: predicted class index\n" + "\n".join(rows) + "\n")
    lines = [
        f"# Ten-patch evaluation: {result['model']} on {result['dataset']}",
        "",
        f"{result['images']} validation images; checkpoint `{result['checkpoint']}` (sha256 {result['checkpoint_sha256'][:12]}…)",
        "",
        "| method | top-1 error | top-5 error |",
        "|---|---|---|",
    ]
    for name, rates in result["methods"].items():
        mark = " (default)" if name == result["default"] else ""
        lines.append(f"| {LABELS[name][0]}{mark} | {100 * rates['top1_error']:.2f}% | {100 * rates['top5_error']:.2f}% |")
    lines += ["", "| class | accuracy |", "|---|---|"]
    lines += [f"| {name} | {100 * accuracy:.1f}% |" for name, accuracy in result["per_class_accuracy"].items()]
    summary = "\n".join(lines) + "\n"
    (out / "tenpatch.md").write_text(summary)
    return summary


def write_confusion_png(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    names = result["names"]
    size = min(max(4, 0.5 * len(names)), 16)  # ImageNet's 1,000 classes: a picture, not 40,000 px a side
    figure, axes = pyplot.subplots(figsize=(size + 2, size))
    image = axes.imshow(torch.tensor(result["confusion"]).numpy(), cmap="Blues")
    if len(names) <= 30:
        axes.set_xticks(range(len(names)), names, rotation=90)
        axes.set_yticks(range(len(names)), names)
    axes.set(xlabel="predicted", ylabel="true", title="confusion (ten-patch)")
    figure.colorbar(image)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    pyplot.close(figure)
