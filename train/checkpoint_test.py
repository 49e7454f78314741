"""Checkpoint faults a user meets end in one clear line, with nothing of theirs lost."""
import pickle
import sys

import pytest
import torch

from train import checkpoint
from tools.testing import small_tmpfs
from train.checkpoint import CheckpointError


@pytest.fixture
def small_filesystem(tmp_path):
    with small_tmpfs(tmp_path / "small", "1m") as mount:
        yield mount


def test_a_full_disk_names_the_folder_and_the_space_and_keeps_the_old_checkpoint(small_filesystem):
    path = small_filesystem / "last.pt"
    checkpoint.save({"model": torch.zeros(1000)}, path)
    before = path.read_bytes()
    with pytest.raises(CheckpointError) as error:
        checkpoint.save({"model": torch.zeros(1_000_000)}, path)  # 4 MB on a 1 MB disk
    message = str(error.value)
    assert "the disk is full (4 MB needed" in message and f"free in {small_filesystem}" in message
    assert "\n" not in message
    assert path.read_bytes() == before and sorted(p.name for p in small_filesystem.iterdir()) == ["last.pt"]


class NotATensor:
    pass


def test_a_checkpoint_holding_pickled_objects_is_refused_in_one_line(tmp_path):
    path = tmp_path / "foreign.pt"
    with open(path, "wb") as file:
        torch.save({"model": NotATensor()}, file, pickle_module=pickle)
    with pytest.raises(CheckpointError) as error:
        checkpoint.load(path)
    assert str(error.value) == (f"{path} is not a checkpoint of this project: it holds objects other than tensors, "
                                "refused without running them")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
