"""The fused CPU LRN (model/lrn_kernel.cc) computes what the PyTorch operations compute."""
import sys

import pytest
import torch

from model import lrn_kernel
from model.norms import LRN_ALPHA, LRN_BETA, LRN_K, LRN_SIZE, LocalResponseNorm


def both_ways(x: torch.Tensor, upstream: torch.Tensor, module: torch.nn.Module | None = None):
    """(output, input gradient) from the fused kernel and from the PyTorch operations."""
    module = module or LocalResponseNorm()
    results = []
    for fused in (True, False):
        a = x.detach().clone().requires_grad_()
        if fused:
            assert lrn_kernel.supports(a)
            out = module(a)
        else:
            with lrn_kernel.disabled():
                assert not lrn_kernel.supports(a)
                out = module(a)
        (out.float() * upstream).sum().backward()
        results.append((out.detach(), a.grad))
    return results


def test_bazel_builds_the_kernel_beside_the_module():
    assert lrn_kernel.available(), "//model:liblrn_kernel.so is missing from the runfiles"


@pytest.mark.parametrize("channels_last", [True, False])
def test_fused_equals_pytorch_operations_in_float32(channels_last):
    torch.manual_seed(0)
    x = torch.relu(torch.randn(3, 96, 7, 6)) * 40
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    upstream = torch.randn(3, 96, 7, 6)
    (fused, fused_grad), (eager, eager_grad) = both_ways(x, upstream)
    torch.testing.assert_close(fused, eager, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fused_grad, eager_grad, rtol=1e-4, atol=1e-6)


def test_fused_handles_a_strided_view():
    torch.manual_seed(1)
    x = (torch.relu(torch.randn(2, 20, 9, 9)) * 30)[:, 3:17, ::2, 1:]
    (fused, fused_grad), (eager, eager_grad) = both_ways(x, torch.randn(x.shape))
    torch.testing.assert_close(fused, eager, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fused_grad, eager_grad, rtol=1e-4, atol=1e-6)


def test_fused_bfloat16_stays_within_bfloat16_rounding_of_float32():
    torch.manual_seed(2)
    x = torch.relu(torch.randn(2, 64, 5, 5)) * 30
    upstream = torch.randn(2, 64, 5, 5)
    (low, low_grad), _ = both_ways(x.bfloat16(), upstream)
    (exact, exact_grad), _ = both_ways(x, upstream)
    assert low.dtype == low_grad.dtype == torch.bfloat16
    # bfloat16 keeps 8 significant bits: one rounding of the input, one of the output.
    torch.testing.assert_close(low.float(), exact, rtol=1e-2, atol=1e-2)
    torch.testing.assert_close(low_grad.float(), exact_grad, rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("size, beta", [(3, 0.75), (7, 0.5)])
def test_fused_handles_other_sizes_and_exponents(size, beta):
    torch.manual_seed(3)
    x = torch.relu(torch.randn(2, 11, 4, 4, dtype=torch.float64)) * 50
    module = LocalResponseNorm(size=size, alpha=LRN_ALPHA, beta=beta, k=LRN_K)
    (fused, fused_grad), (eager, eager_grad) = both_ways(x, torch.randn(x.shape, dtype=torch.float64), module)
    torch.testing.assert_close(fused, eager)
    torch.testing.assert_close(fused_grad, eager_grad)


def test_fewer_channels_than_the_window():
    x = torch.relu(torch.randn(1, 2, 3, 3, dtype=torch.float64)) * 60
    (fused, fused_grad), (eager, eager_grad) = both_ways(x, torch.ones(x.shape, dtype=torch.float64))
    torch.testing.assert_close(fused, eager)
    torch.testing.assert_close(fused_grad, eager_grad)


def test_even_window_is_refused_by_name():
    with pytest.raises(ValueError, match="odd"):
        LocalResponseNorm(size=4)
    assert LRN_SIZE % 2 == 1 and LRN_BETA == 0.75


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
