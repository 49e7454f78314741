"""Validation passes shared by training and evaluation: loss, top-1/top-5, predicted classes."""
from contextlib import AbstractContextManager

import torch
import torch.distributed as dist
from torch import nn
from torch.nn import functional as F

from data.augment import Augmenter
from data.batches import BatchLoader


@torch.no_grad()
def evaluate_center(model: nn.Module, loader: BatchLoader, augmenter: Augmenter, device: torch.device,
                    autocast: AbstractContextManager, num_classes: int) -> dict:
    """Single centre-crop evaluation; with torch.distributed, each rank's shard is summed."""
    model.eval()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros(2, device=device, dtype=torch.int64)
    predicted = torch.zeros(num_classes, device=device, dtype=torch.int64)
    count = torch.zeros((), device=device, dtype=torch.int64)
    for images, labels in loader.epoch(0):
        images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        with autocast:
            logits = model(augmenter.center(images))
        loss_sum += F.cross_entropy(logits.float(), labels, reduction="sum")
        correct += topk_correct(logits, labels)
        predicted += torch.bincount(logits.argmax(1), minlength=num_classes)
        count += len(labels)
    if dist.is_initialized():
        for total in (loss_sum, correct, predicted, count):
            dist.all_reduce(total)
    n = max(int(count), 1)
    return {
        "loss": float(loss_sum) / n,
        "top1": int(correct[0]) / n,
        "top5": int(correct[1]) / n,
        "predicted": predicted.cpu(),
    }


def topk_correct(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(2,) int64: how many labels are the top-1 prediction, and how many are in the top 5."""
    top = scores.topk(min(5, scores.shape[1]), dim=1).indices
    hits = top == labels[:, None]
    return torch.stack([hits[:, 0].sum(), hits.any(1).sum()])
