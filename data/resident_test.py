"""A split held on the device gives the host loader's batches, and is held there only when it fits."""
import sys

import pytest
import torch

from data import preprocess
from data.batches import BatchLoader
from data.cache import open_split
from data.cache import IMAGE_BYTES
from data.resident import ResidentLoader, fits, resident_on


@pytest.fixture(scope="module", params=["uint8", "jpeg"])
def train(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    assert preprocess.main(["--dataset=sample", f"--out={out}", "--splits=train", "--workers=1", "--quiet",
                            f"--cache-format={request.param}"]) == 0
    return open_split(out / "train")


@pytest.mark.parametrize("options", [dict(seed=0), dict(seed=5, shuffle=False), dict(seed=1, rank=1, world=2),
                                     dict(seed=2, drop_last=False)])
def test_the_same_batches_as_the_host_loader(train, options):
    host = BatchLoader(train, 16, **options)
    resident = ResidentLoader(train, 16, torch.device("cpu"), **options)
    assert len(resident) == len(host)
    for epoch in (0, 3):
        pairs = list(zip(host.epoch(epoch), resident.epoch(epoch), strict=True))
        assert pairs
        for (images, labels), (on_device, device_labels) in pairs:
            assert torch.equal(images, on_device) and torch.equal(labels, device_labels)


def test_a_split_is_held_on_the_device_only_when_it_fits_in_half_its_free_memory(train):
    size = len(train) * IMAGE_BYTES
    assert fits([train], 2 * size) and not fits([train], 2 * size - 1)
    assert not fits([train, train], 3 * size)
    assert resident_on(torch.device("cpu"), [train]) is None  # host memory is where the cache already is


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
