"""Normalisation layers: the paper's local response normalisation and the blog's RMSNorm."""
import torch
from torch import nn
from torch.nn import functional as F

from model import lrn_kernel

# The paper's constants: b = a / (k + alpha * sum_{n neighbours} a^2) ** beta.
LRN_SIZE, LRN_K, LRN_ALPHA, LRN_BETA = 5, 2.0, 1e-4, 0.75


def _band(channels: int, size: int, like: torch.Tensor) -> torch.Tensor:
    """(C, C, 1, 1) 0/1 matrix: output channel i sums input channels within size // 2 of i."""
    offsets = torch.arange(channels, device=like.device)
    return ((offsets[:, None] - offsets[None, :]).abs() <= size // 2).to(like.dtype)[:, :, None, None]


class _LRNFunction(torch.autograd.Function):
    """b = a * d^-beta with d = k + alpha * (sum of a^2 over the n neighbouring channels).

    Autograd through the formula's element-wise steps made about ten passes over the
    feature map in each direction (LRN was a third of every training step in fp32).
    Written out, the gradient is

        dL/da_i = g_i d_i^-beta - 2 alpha beta a_i * sum_{j near i} g_j b_j / d_j,

    the same banded sum applied to g * b / d: three element-wise passes and one
    banded 1x1 convolution backward, four and one forward. d^-0.75 is taken as
    rsqrt(d) * sqrt(rsqrt(d)), far cheaper than pow on CPUs.

    On CPU, where Bazel has built it, model/lrn_kernel.cc does the same in one pass
    over memory each way; these PyTorch operations serve GPUs and runs without Bazel.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, size: int, alpha: float, beta: float, k: float) -> torch.Tensor:
        ctx.fused, ctx.constants = lrn_kernel.supports(x), (size, alpha, beta, k)
        if ctx.fused:
            ctx.save_for_backward(x)
            return lrn_kernel.forward(x, size, alpha, beta, k)
        band = _band(x.shape[1], size, x)
        # alpha rides in the band's weights and k in the bias: the convolution yields the divisor.
        divisor = F.conv2d(x * x, band * alpha, torch.full((x.shape[1],), k, device=x.device, dtype=x.dtype))
        if beta == 0.75:
            scale = torch.rsqrt(divisor)
            scale.mul_(scale.sqrt())
        else:
            scale = divisor.pow(-beta)
        out = x * scale
        ctx.save_for_backward(x, scale, divisor, band)
        ctx.alpha_beta = alpha * beta
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        if ctx.fused:
            (x,) = ctx.saved_tensors
            return lrn_kernel.backward(x, grad, *ctx.constants), None, None, None, None
        x, scale, divisor, band = ctx.saved_tensors
        grad_scaled = grad * scale
        neighbours = F.conv2d(torch.mul(grad_scaled, x).div_(divisor), band)
        grad_x = neighbours.mul_(x).mul_(-2 * ctx.alpha_beta).add_(grad_scaled)
        return grad_x, None, None, None, None


class LocalResponseNorm(nn.Module):
    """Local response normalisation exactly as the paper writes it (section 3.3).

    The sum of squares over each channel's n neighbours is a 1x1 convolution with a
    banded 0/1 matrix: a matrix product that runs fast in bf16 and channels_last, where
    torch's LocalResponseNorm (an average pool over padded squares) was 3x slower than
    the whole rest of the network on CPU. torch's version also divides alpha by n (it
    averages the squares where the paper sums them); this one does not. The gradient
    is written out by hand (_LRNFunction): a few passes instead of autograd's many.
    """

    def __init__(self, size: int = LRN_SIZE, alpha: float = LRN_ALPHA, beta: float = LRN_BETA, k: float = LRN_K):
        super().__init__()
        if size < 1 or size % 2 == 0:
            raise ValueError(f"the LRN window must be an odd number of channels (centred on each), got {size}")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _LRNFunction.apply(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class ChannelRMSNorm(nn.Module):
    """RMSNorm across the channels of each pixel of an (N, C, H, W) feature map."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.movedim(1, -1)
        return F.rms_norm(x, x.shape[-1:], self.weight, self.eps).movedim(-1, 1)
