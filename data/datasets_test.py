"""Datasets resolve to sorted class folders with readable names; bad layouts are named."""
import io
import sys
import tarfile
from pathlib import Path

import pytest

from data.datasets import dataset_root, load_split, safe_extract
from data.folders import DataError


def test_sample_has_ten_imagenette_classes_in_wnid_order():
    train = load_split("sample", "train")
    assert train.classes == sorted(train.classes) and len(train.classes) == 10
    assert train.names[0] == "tench" and train.names[-1] == "parachute"
    assert len(train) == 120 and len(load_split("sample", "val")) == 80


def test_labels_follow_the_class_folder_of_each_image():
    train = load_split("sample", "train")
    assert all(path.parent.name == train.classes[label] for path, label in zip(train.paths, train.labels))


def test_folder_needs_a_data_dir():
    with pytest.raises(DataError, match="needs --data-dir"):
        dataset_root("folder")


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(DataError, match="imagenette-320"):
        dataset_root("cifar")


def test_missing_split_folder_is_named(tmp_path):
    with pytest.raises(DataError, match=f"{tmp_path}/val does not exist"):
        load_split("folder", "val", tmp_path)


def test_class_folder_without_images_is_named(tmp_path):
    (tmp_path / "train" / "a").mkdir(parents=True)
    (tmp_path / "train" / "a" / "x.jpg").write_bytes(b"")
    (tmp_path / "train" / "b").mkdir()
    with pytest.raises(DataError, match="train/b has no images"):
        load_split("folder", "train", tmp_path)


def test_a_single_class_is_refused(tmp_path):
    (tmp_path / "train" / "a").mkdir(parents=True)
    with pytest.raises(DataError, match="at least 2"):
        load_split("folder", "train", tmp_path)


def test_imagenette_without_a_copy_or_download_names_the_url(tmp_path):
    with pytest.raises(DataError, match="imagenette2-160.tgz.*--data-dir"):
        dataset_root("imagenette-160", tmp_path, download=False)


def test_data_dir_holding_train_and_val_is_used_as_is():
    sample = Path(load_split("sample", "train").paths[0]).parents[2]
    assert dataset_root("imagenette", sample) == sample


def make_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_archive_escaping_its_folder_is_refused_and_nothing_is_written(tmp_path):
    archive = make_tar(tmp_path / "evil.tgz", {"top/train/a/1.jpg": b"x", "../outside.txt": b"x"})
    with pytest.raises(DataError, match="unsafe member '../outside.txt'"):
        safe_extract(archive, tmp_path / "out" / "top")
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "out" / "top").exists()


def test_archive_extracts_its_top_folder(tmp_path):
    archive = make_tar(tmp_path / "ok.tgz", {"imagenette2/train/a/1.jpg": b"x"})
    safe_extract(archive, tmp_path / "data" / "imagenette2")
    assert (tmp_path / "data" / "imagenette2" / "train" / "a" / "1.jpg").read_bytes() == b"x"


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
