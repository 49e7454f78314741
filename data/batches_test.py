"""Batches come reshuffled every epoch, reproducibly, never one class at a time."""
import sys

import numpy as np
import pytest
import torch

from data import preprocess
from data.batches import BatchLoader, epoch_order
from data.cache import open_split


@pytest.fixture(scope="module")
def train(tmp_path_factory):
    out = tmp_path_factory.mktemp("cache")
    assert preprocess.main(["--dataset=sample", f"--out={out}", "--splits=train", "--workers=1"]) == 0
    return open_split(out / "train")


def test_the_batch_stream_is_not_class_sorted(train):
    # Class-sorted, a batch of 20 would hold 2 of the 10 classes; shuffled, most of them.
    for _, labels in BatchLoader(train, 20, seed=0).epoch(0):
        assert len(set(labels.tolist())) >= 5


def test_each_epoch_is_a_new_permutation(train):
    first, second = epoch_order(len(train), 0, seed=1), epoch_order(len(train), 1, seed=1)
    assert sorted(first.tolist()) == list(range(len(train)))
    assert not torch.equal(first, second)


def test_an_epoch_order_depends_only_on_seed_and_epoch(train):
    assert torch.equal(epoch_order(len(train), 7, seed=3), epoch_order(len(train), 7, seed=3))
    assert not torch.equal(epoch_order(len(train), 7, seed=3), epoch_order(len(train), 7, seed=4))


def test_no_shuffle_gives_the_cache_order(train):
    labels = torch.cat([labels for _, labels in BatchLoader(train, 20, shuffle=False).epoch(0)])
    assert labels.tolist() == sorted(labels.tolist())


def test_batches_carry_the_images_of_their_labels(train):
    images, labels = next(iter(BatchLoader(train, 8, seed=0).epoch(3)))
    assert images.shape == (8, 256, 256, 3) and images.dtype == torch.uint8
    for image, label in zip(images, labels):
        matches = (torch.from_numpy(np.array(train.images)) == image).flatten(1).all(1).nonzero().flatten()
        assert train.labels[matches[0]] == label


def test_ranks_split_an_epoch_without_overlap(train):
    parts = [BatchLoader(train, 10, seed=0, rank=r, world=3).indices(2) for r in range(3)]
    seen = torch.cat(parts).tolist()
    assert len(seen) == len(set(seen)) == 3 * (len(train) // 3)


def test_drop_last_sets_the_batch_count(train):
    assert len(BatchLoader(train, 50)) == 2 and len(BatchLoader(train, 50, drop_last=False)) == 3
    assert len(list(BatchLoader(train, 50, drop_last=False).epoch(0))) == 3


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
