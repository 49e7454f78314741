"""Error rates, confusion matrices and the written reports of an evaluation."""
import json
from pathlib import Path

import torch

# Every validation image's class probabilities per method, for //eval:ensemble.
PROBABILITIES = "probabilities.pt"


def error_rates(scores: torch.Tensor, labels: torch.Tensor) -> dict:
    top5 = scores.topk(min(5, scores.shape[1]), dim=1).indices
    return {
        "top1_error": 1 - (top5[:, 0] == labels).float().mean().item(),
        "top5_error": 1 - (top5 == labels[:, None]).any(1).float().mean().item(),
    }


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
    labels = {"center": "centre crop", "tenpatch_probabilities": "ten-patch, averaged probabilities",
              "tenpatch_logits": "ten-patch, averaged logits",
              "whole_image": "whole 256 image and its mirror, averaged probabilities",
              "tenpatch_and_whole": "ten patches and the two whole images, averaged probabilities"}
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
        lines.append(f"| {labels[name]}{mark} | {100 * rates['top1_error']:.2f}% | {100 * rates['top5_error']:.2f}% |")
    lines += ["", "| class | accuracy |", "|---|---|"]
    lines += [f"| {name} | {100 * accuracy:.1f}% |" for name, accuracy in result["per_class_accuracy"].items()]
    summary = "\n".join(lines) + "\n"
    (out / "tenpatch.md").write_text(summary)
    return summary


def save_probabilities(result: dict, outputs: dict, path: Path) -> None:
    """In fp16: ImageNet's 50,000 x 1,000 are 100 MB a method (2 bytes each), and a rounding of
    about 1e-3 of a probability can only reorder near-ties."""
    torch.save({
        "dataset": result["dataset"],
        "checkpoint": result["checkpoint"],
        "checkpoint_sha256": result["checkpoint_sha256"],
        "classes": result["classes"],
        "labels": outputs["labels"],
        "methods": {name: scores.half() for name, scores in outputs["probabilities"].items()},
    }, path)


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
