"""AlexNet as in Krizhevsky, Sutskever & Hinton (2012), plus the variants the ablations need.

The paper's network: five convolutions and three fully connected layers, ReLU,
local response normalisation after conv1 and conv2, overlapping 3x3/2 max-pooling,
dropout 0.5 before fc6 and fc7. Its two-GPU layout survives as grouped convolutions:
conv2, conv4 and conv5 only see the feature maps of their own tower (groups=2);
conv3 and the fully connected layers see both.

Input size: the paper says 224x224 but its arithmetic (55x55 after conv1 with an
11x11 stride-4 kernel) only works for 227. We pad conv1 by 2, which gives 55x55 at
224 and 56x56 at 227; both become 27x27 after the first pooling, so the rest of the
network, and the 6x6x256 input of fc6, is the same for either size.
"""
from dataclasses import dataclass

import torch
from torch import nn

from model.norms import ChannelRMSNorm, LocalResponseNorm

# The smallest square input whose feature map survives conv1 and the three 3x3/2 poolings.
MIN_INPUT_SIZE = 63


@dataclass(frozen=True)
class AlexNetConfig:
    num_classes: int = 1000
    towers: int = 2  # 2: the paper's two-GPU layout as grouped convolutions; 1: a single tower
    norm: str = "lrn"  # "lrn" (paper), "rmsnorm" (the blog's variant), or "none"
    downsample: str = "maxpool"  # "maxpool" (paper) or "conv": a learned 3x3 stride-2 convolution
    dropout: float = 0.5
    # "paper": N(0, 0.01) weights, biases 1 in conv2, conv4, conv5, fc6, fc7;
    # "kaiming": He-normal weights (fc8: zeros), zero biases; "torch": PyTorch's default layer init (torchvision's AlexNet)
    init: str = "paper"


def _check(config: AlexNetConfig) -> None:
    if config.num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {config.num_classes}")
    if config.towers not in (1, 2):
        raise ValueError(f"towers must be 1 or 2, got {config.towers}")
    if config.norm not in ("lrn", "rmsnorm", "none"):
        raise ValueError(f"norm must be 'lrn', 'rmsnorm' or 'none', got {config.norm!r}")
    if config.downsample not in ("maxpool", "conv"):
        raise ValueError(f"downsample must be 'maxpool' or 'conv', got {config.downsample!r}")
    if not 0.0 <= config.dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {config.dropout}")
    if config.init not in ("paper", "kaiming", "torch"):
        raise ValueError(f"init must be 'paper', 'kaiming' or 'torch', got {config.init!r}")


def check_image_batch(x: torch.Tensor, min_size: int) -> None:
    """Raises a ValueError that names the problem when x is not an (N, 3, H, W) batch big enough."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected a batch of RGB images shaped (N, 3, H, W), got {tuple(x.shape)}")
    if min(x.shape[-2:]) < min_size:
        raise ValueError(
            f"input images are {x.shape[-2]}x{x.shape[-1]}, smaller than this network's minimum "
            f"{min_size}x{min_size} (the paper uses 224x224 crops)"
        )


class AlexNet(nn.Module):
    def __init__(self, config: AlexNetConfig = AlexNetConfig()):
        super().__init__()
        _check(config)
        self.config = config
        groups = config.towers

        def norm(channels: int) -> nn.Module:
            return {"lrn": LocalResponseNorm, "rmsnorm": lambda: ChannelRMSNorm(channels), "none": nn.Identity}[config.norm]()

        def downsample(channels: int) -> nn.Module:
            if config.downsample == "maxpool":
                return nn.MaxPool2d(kernel_size=3, stride=2)
            return nn.Sequential(nn.Conv2d(channels, channels, kernel_size=3, stride=2), nn.ReLU(inplace=True))

        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            norm(96),
            downsample(96),
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=groups),
            nn.ReLU(inplace=True),
            norm(256),
            downsample(256),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=groups),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=groups),
            nn.ReLU(inplace=True),
            downsample(256),
        )
        # Exactly 6x6 at 224 and 227; lets larger or smaller (>= 63 px) inputs through too.
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(config.dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, config.num_classes),
        )
        self._init_weights()

    def convs(self) -> list[nn.Conv2d]:
        """conv1..conv5, in order (without the stride-2 convolutions of the 'conv' downsampling)."""
        return [m for m in self.features if isinstance(m, nn.Conv2d)]

    def linears(self) -> list[nn.Linear]:
        """fc6, fc7, fc8."""
        return [m for m in self.classifier if isinstance(m, nn.Linear)]

    def _init_weights(self) -> None:
        if self.config.init == "torch":
            return  # nn.Conv2d and nn.Linear initialise themselves
        layers = self.convs() + self.linears()
        # The paper: "initialized the neuron biases in the second, fourth, and fifth
        # convolutional layers, as well as in the fully-connected hidden layers, with
        # the constant 1 ... the remaining layers with the constant 0".
        biases_one = {layers[i] for i in (1, 3, 4, 5, 6)}
        for module in self.modules():
            if not isinstance(module, (nn.Conv2d, nn.Linear)):
                continue
            if self.config.init == "paper":
                nn.init.normal_(module.weight, mean=0.0, std=0.01)
                nn.init.constant_(module.bias, 1.0 if module in biases_one else 0.0)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
        if self.config.init == "kaiming":
            # He-initialised fc8 starts with logits of std ~3 (first loss ~5.2 against
            # ln 10 = 2.3) and moves ~7% of its weights per step at lr 0.01 (docs/RESULTS.md).
            # Zero logits start every class at 1/C; fc8's gradient is still non-zero since
            # fc7's output is.
            nn.init.zeros_(self.linears()[-1].weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, MIN_INPUT_SIZE)
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))
