"""Normalisation layers: the paper's local response normalisation and the blog's RMSNorm."""
import torch
from torch import nn
from torch.nn import functional as F

# The paper's constants: b = a / (k + alpha * sum_{n neighbours} a^2) ** beta.
LRN_SIZE, LRN_K, LRN_ALPHA, LRN_BETA = 5, 2.0, 1e-4, 0.75


class LocalResponseNorm(nn.Module):
    """Local response normalisation exactly as the paper writes it (section 3.3).

    The sum of squares over each channel's n neighbours is a 1x1 convolution with a
    banded 0/1 matrix: a matrix product that runs fast in bf16 and channels_last, where
    torch's LocalResponseNorm (an average pool over padded squares) was 3x slower than
    the whole rest of the network on CPU. torch's version also divides alpha by n (it
    averages the squares where the paper sums them); this one does not.
    """

    def __init__(self, size: int = LRN_SIZE, alpha: float = LRN_ALPHA, beta: float = LRN_BETA, k: float = LRN_K):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        offsets = torch.arange(channels, device=x.device)
        # alpha rides in the band's weights and k in the bias: the convolution yields the divisor.
        band = ((offsets[:, None] - offsets[None, :]).abs() <= self.size // 2).to(x.dtype) * self.alpha
        k = torch.full((channels,), self.k, device=x.device, dtype=x.dtype)
        divisor = F.conv2d(x * x, band[:, :, None, None], k)
        return x * divisor.pow(-self.beta)


def paper_lrn() -> LocalResponseNorm:
    return LocalResponseNorm()


class ChannelRMSNorm(nn.Module):
    """RMSNorm across the channels of each pixel of an (N, C, H, W) feature map."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.movedim(1, -1)
        return F.rms_norm(x, x.shape[-1:], self.weight, self.eps).movedim(-1, 1)
