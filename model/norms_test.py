"""The normalisation layers compute what the paper and the blog describe."""
import sys

import pytest
import torch

from model.norms import LRN_ALPHA, LRN_BETA, LRN_K, LRN_SIZE, ChannelRMSNorm, paper_lrn


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
    torch.testing.assert_close(paper_lrn()(a), lrn_by_the_formula(a), rtol=1e-5, atol=1e-6)


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
