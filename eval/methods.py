"""The evaluation methods by name, the file that keeps their probabilities, and their error
rates (top-k counted as training's validation counts it): one definition for //eval:tenpatch,
//eval:ensemble and the tools.

Each method turns a validation image's views into one vector of class probabilities:
the centre crop; the paper's ten patches (four corners and the centre, and their
mirrors), probabilities averaged or logits averaged; the whole 256 image and its mirror;
and the ten patches with the two whole images.
"""
from pathlib import Path

import torch

from train.evaluate import topk_correct  # training's validation counts the same way

CENTER = "center"
TENPATCH = "tenpatch_probabilities"  # the paper's
TENPATCH_LOGITS = "tenpatch_logits"  # the ImageNet replication's
WHOLE = "whole_image"
TENPATCH_AND_WHOLE = "tenpatch_and_whole"

# How a report names each method, and a table's short column heading.
LABELS = {
    CENTER: ("centre crop", "centre"),
    TENPATCH: ("ten-patch, averaged probabilities", "ten patches"),
    TENPATCH_LOGITS: ("ten-patch, averaged logits", "ten patches (logits)"),
    WHOLE: ("whole 256 image and its mirror, averaged probabilities", "whole image"),
    TENPATCH_AND_WHOLE: ("ten patches and the two whole images, averaged probabilities", "ten patches + whole"),
}

# Every validation image's class probabilities per method (fp16: ImageNet's 50,000 x 1,000
# are 100 MB a method, 2 bytes each; a rounding of about 1e-3 can only reorder near-ties).
PROBABILITIES = "probabilities.pt"
PROBABILITY_FIELDS = ("dataset", "checkpoint", "checkpoint_sha256", "classes", "labels", "methods")


class ProbabilitiesError(Exception):
    pass


def save_probabilities(path: Path, labels: torch.Tensor, probabilities: dict[str, torch.Tensor], **about) -> None:
    """about: the dataset, checkpoint, checkpoint_sha256 and classes they were computed with."""
    if set(about) | {"labels", "methods"} != set(PROBABILITY_FIELDS):
        raise ValueError(f"a probabilities file holds {PROBABILITY_FIELDS}, given {sorted(about)}")
    torch.save({**about, "labels": labels, "methods": {name: p.half() for name, p in probabilities.items()}}, path)


def load_probabilities(path: Path) -> dict:
    try:
        saved = torch.load(path, weights_only=True)
    except Exception as error:  # a truncated or foreign file: torch raises many kinds
        raise ProbabilitiesError(f"{path}: cannot be read ({error})") from error
    if not isinstance(saved, dict) or not set(PROBABILITY_FIELDS) <= saved.keys():
        raise ProbabilitiesError(f"{path}: not a probabilities file of //eval:tenpatch")
    return saved


def error_rates(scores: torch.Tensor, labels: torch.Tensor) -> dict:
    top1, top5 = topk_correct(scores, labels).tolist()
    return {"top1_error": 1 - top1 / len(labels), "top5_error": 1 - top5 / len(labels)}
