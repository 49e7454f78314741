"""Baselines: the blog's two-layer MLP (~44% on Imagenette) and single conv layer (~55%), and
torchvision's AlexNet, the layout most PyTorch code means by "AlexNet" (benchmarks compare against it)."""
import torch
import torchvision
from torch import nn

from model.alexnet import check_image_batch


class Baseline(nn.Module):
    """self.net, set by each baseline, on inputs checked as AlexNet checks them."""

    min_input_size = 1

    def __init__(self, num_classes: int):
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.min_input_size)
        return self.net(x)


class MLP(Baseline):
    """Two fully connected layers with a ReLU between them.

    Images are first averaged down to pixels x pixels, so the first layer stays a
    manageable size (64x64x3 -> 1024) whatever the crop size.
    """

    def __init__(self, num_classes: int, pixels: int = 64, hidden: int = 1024, dropout: float = 0.0):
        super().__init__(num_classes)
        self.net = nn.Sequential(
            nn.AdaptiveAvgPool2d((pixels, pixels)),
            nn.Flatten(),
            nn.Linear(3 * pixels * pixels, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )


class SingleConv(Baseline):
    """AlexNet's conv1 (96 11x11 stride-4 filters), ReLU and max-pooling, then a linear classifier."""

    min_input_size = 15

    def __init__(self, num_classes: int, dropout: float = 0.0):
        super().__init__(num_classes)
        self.net = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.AdaptiveAvgPool2d((6, 6)),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(96 * 6 * 6, num_classes),
        )


class TorchvisionAlexNet(Baseline):
    """torchvision.models.alexnet (from "One weird trick", 2014): one tower, no LRN, PyTorch's init."""

    min_input_size = 63

    def __init__(self, num_classes: int, dropout: float = 0.5):
        super().__init__(num_classes)
        self.net = torchvision.models.alexnet(num_classes=num_classes, dropout=dropout)
