"""Normalisation layers: the paper's local response normalisation and the blog's RMSNorm."""
import torch
from torch import nn
from torch.nn import functional as F

# The paper's constants: b = a / (k + alpha * sum_{n neighbours} a^2) ** beta.
LRN_SIZE, LRN_K, LRN_ALPHA, LRN_BETA = 5, 2.0, 1e-4, 0.75


def paper_lrn() -> nn.LocalResponseNorm:
    """Local response normalisation exactly as the paper writes it.

    torch's LocalResponseNorm divides alpha by the window size n (it averages the
    squares where the paper sums them), so it gets alpha * n to match the paper.
    """
    return nn.LocalResponseNorm(size=LRN_SIZE, alpha=LRN_ALPHA * LRN_SIZE, beta=LRN_BETA, k=LRN_K)


class ChannelRMSNorm(nn.Module):
    """RMSNorm across the channels of each pixel of an (N, C, H, W) feature map."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.movedim(1, -1)
        return F.rms_norm(x, x.shape[-1:], self.weight, self.eps).movedim(-1, 1)
