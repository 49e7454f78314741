"""The compact JPEG cache reads like the uint8 one, to within JPEG's rounding, and is far smaller."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from data import prepare, preprocess
from data.batches import BatchLoader
from data.cache import CacheError, open_split, read_stats
from data.jpeg_cache import JpegImages


@pytest.fixture(scope="module")
def caches(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for cache_format in ("uint8", "jpeg"):
        out[cache_format] = tmp_path_factory.mktemp(cache_format)
        assert preprocess.main(["--dataset=sample", f"--out={out[cache_format]}", "--workers=2", "--quiet",
                                f"--cache-format={cache_format}"]) == 0
    return out


def test_jpeg_entries_decode_to_the_uint8_pixels_within_jpeg_rounding(caches):
    pixels, jpegs = open_split(caches["uint8"] / "val").images, open_split(caches["jpeg"] / "val").images
    assert isinstance(jpegs, JpegImages) and jpegs.shape == pixels.shape == (80, 256, 256, 3)
    difference = np.abs(jpegs[:].astype(int) - np.asarray(pixels).astype(int))
    assert difference.mean() < 2.0  # levels of 255, quality 90
    assert np.array_equal(jpegs[np.array([3, 1])], np.stack([jpegs[3], jpegs[1]]))


def test_jpeg_cache_is_several_times_smaller(caches):
    jpeg_bytes = (caches["jpeg"] / "train" / "jpegs.bin").stat().st_size
    assert (caches["uint8"] / "train" / "images.npy").stat().st_size > 4 * jpeg_bytes


def test_batches_of_both_formats_hold_the_same_images_and_labels(caches):
    loaders = [BatchLoader(open_split(caches[f] / "train"), 16, seed=3) for f in ("uint8", "jpeg")]
    for (pixels, labels), (decoded, same_labels) in zip(loaders[0].epoch(0), loaders[1].epoch(0), strict=True):
        assert torch.equal(labels, same_labels) and decoded.dtype == torch.uint8
        assert (decoded.int() - pixels.int()).abs().float().mean() < 2.0


def test_stats_of_both_formats_agree(caches):
    means = [read_stats(caches[cache_format])["mean"] for cache_format in ("uint8", "jpeg")]
    np.testing.assert_allclose(means[0], means[1], atol=1.0)


def test_a_cache_of_the_other_format_is_refused_by_name(caches):
    with pytest.raises(CacheError, match="holds a uint8 cache, not jpeg.*--cache-format uint8"):
        prepare.prepare_cache("sample", None, str(caches["uint8"]), cache_format="jpeg")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
