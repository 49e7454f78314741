"""The normalisation layers compute what the paper and the blog describe."""
import sys

import pytest
import torch

from model.norms import LRN_ALPHA, LRN_BETA, LRN_K, LRN_SIZE, ChannelRMSNorm, LocalResponseNorm


def lrn_by_the_formula(a: torch.Tensor) -> torch.Tensor:
    """b_i = a_i / (k + alpha * sum_{j=max(0,i-n/2)}^{min(N-1,i+n/2)} a_j^2)^beta, section 3.3."""
    channels = a.shape[1]
    b = torch.empty_like(a)
    for i in range(channels):
        lo, hi = max(0, i - LRN_SIZE // 2), min(channels - 1, i + LRN_SIZE // 2)
        b[:, i] = a[:, i] / (LRN_K + LRN_ALPHA * (a[:, lo : hi + 1] ** 2).sum(dim=1)) ** LRN_BETA
    return b


def test_lrn_matches_the_papers_formula():
    torch.manual_seed(0)
    # Activations of a few tens make the alpha term matter (alpha * sum a^2 ~ k).
    a = torch.relu(torch.randn(2, 12, 5, 5) * 60)
    torch.testing.assert_close(LocalResponseNorm()(a), lrn_by_the_formula(a), rtol=1e-5, atol=1e-6)


def test_lrn_gradient_matches_the_formulas_in_float64():
    torch.manual_seed(0)
    a = (torch.relu(torch.randn(2, 9, 4, 3, dtype=torch.float64)) * 60).contiguous(memory_format=torch.channels_last)
    a.requires_grad_()
    # gradcheck compares the hand-written backward with finite differences of the forward.
    assert torch.autograd.gradcheck(LocalResponseNorm(), (a,))
    reference = a.detach().clone().requires_grad_()
    upstream = torch.randn_like(a)
    (LocalResponseNorm()(a) * upstream).sum().backward()
    (lrn_by_the_formula(reference) * upstream).sum().backward()
    torch.testing.assert_close(a.grad, reference.grad)


def test_lrn_equals_torchs_with_alpha_scaled_by_n_forward_and_backward():
    torch.manual_seed(1)
    a = (torch.relu(torch.randn(3, 16, 6, 6)) * 40).requires_grad_()
    b = a.detach().clone().requires_grad_()
    torchs = torch.nn.LocalResponseNorm(LRN_SIZE, alpha=LRN_ALPHA * LRN_SIZE, beta=LRN_BETA, k=LRN_K)
    upstream = torch.randn(3, 16, 6, 6)
    ours, theirs = LocalResponseNorm()(a), torchs(b)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    (ours * upstream).sum().backward()
    (theirs * upstream).sum().backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6)


def test_lrn_runs_under_bf16_autocast_close_to_fp32():
    torch.manual_seed(2)
    a = torch.relu(torch.randn(2, 32, 5, 5)) * 30
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = LocalResponseNorm()(a.bfloat16())
    torch.testing.assert_close(low.float(), LocalResponseNorm()(a), rtol=2e-2, atol=2e-2)


def test_lrn_differs_from_torchs_default_reading_of_alpha():
    a = torch.relu(torch.randn(1, 12, 3, 3) * 60)
    torchs_reading = torch.nn.LocalResponseNorm(LRN_SIZE, alpha=LRN_ALPHA, beta=LRN_BETA, k=LRN_K)
    assert not torch.allclose(torchs_reading(a), lrn_by_the_formula(a), rtol=1e-3)


def test_channel_rmsnorm_gives_unit_rms_across_channels_per_pixel():
    torch.manual_seed(0)
    x = torch.randn(2, 16, 4, 4) * 7 + 3
    y = ChannelRMSNorm(16)(x)
    rms = y.pow(2).mean(dim=1).sqrt()
    torch.testing.assert_close(rms, torch.ones_like(rms), rtol=1e-4, atol=1e-4)


def test_channel_rmsnorm_keeps_direction_of_each_pixel_vector():
    x = torch.randn(1, 8, 2, 2)
    y = ChannelRMSNorm(8)(x)
    cos = torch.nn.functional.cosine_similarity(x, y, dim=1)
    torch.testing.assert_close(cos, torch.ones_like(cos))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
