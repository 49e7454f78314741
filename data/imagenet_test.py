"""ILSVRC-2012 is read in each layout people have, with the same classes and labels, and
every way a download can be wrong ends in one line naming the file."""
import hashlib
import io
import shutil
import sys
import tarfile
from pathlib import Path

import pytest

from data import imagenet, preprocess
from data.datasets import load_split
from data.folders import DataError, read_image_bytes
from tools import imagenet_miniature

LAYOUTS = ("archives", "kaggle", "folders")


@pytest.fixture(scope="module")
def miniature(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ilsvrc")
    imagenet_miniature.generate(out, imagenet_miniature.SAMPLE_DIR, per_class=1, val_count=60, side=48, seed=0)
    return out


def labels_by_content(split) -> dict[str, int]:
    return {hashlib.sha256(read_image_bytes(*split.location(i))).hexdigest(): split.labels[i]
            for i in range(len(split))}


@pytest.mark.parametrize("name", ["train", "val"])
def test_every_layout_gives_each_image_the_same_label(miniature, name):
    splits = [load_split("imagenet", name, miniature / layout) for layout in LAYOUTS]
    archives, kaggle, folders = (labels_by_content(split) for split in splits)
    assert len(archives) == (1000 if name == "train" else 60)
    assert archives == kaggle == folders
    for split in splits:
        assert split.classes == sorted(split.classes) and len(split.classes) == 1000
        assert split.names[:2] == ["tench", "goldfish"]


def test_archives_are_read_in_place_not_extracted(miniature):
    before = sorted(p.name for p in (miniature / "archives").iterdir())
    train = load_split("imagenet", "train", miniature / "archives")
    assert train.extents is not None and all(extent[0].endswith(imagenet.TRAIN_TAR) for extent in train.extents)
    assert str(train.paths[0].relative_to(miniature / "archives")) == "ILSVRC2012_img_train.tar/n01440764.tar/n01440764_1.JPEG"
    assert sorted(p.name for p in (miniature / "archives").iterdir()) == before


def test_the_devkit_ids_are_not_sorted_order_and_its_internal_synsets_are_left_out(miniature):
    id_to_wnid, truth = imagenet.read_devkit(miniature / "archives" / imagenet.DEVKIT)
    assert len(id_to_wnid) == 1000 and len(truth) == 60
    assert [id_to_wnid[i] for i in range(1, 1001)] != sorted(id_to_wnid.values())


def test_an_unofficial_devkit_is_a_warning_not_a_refusal(miniature, tmp_path, capsys):
    root = copy_layout(miniature, "archives", tmp_path)
    for split in ("train", "val"):
        load_split("imagenet", split, root)
    assert capsys.readouterr().err.count("differs from the official devkit") == 1


def copy_layout(miniature: Path, layout: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(miniature / layout, tmp_path / layout))


def test_a_missing_archive_is_named(miniature, tmp_path):
    root = copy_layout(miniature, "archives", tmp_path)
    (root / imagenet.VAL_TAR).unlink()
    with pytest.raises(DataError, match=f"{root / imagenet.VAL_TAR} is missing"):
        load_split("imagenet", "val", root)


def test_a_devkit_that_does_not_match_the_train_archive_is_refused(miniature, tmp_path):
    root = copy_layout(miniature, "archives", tmp_path)
    with tarfile.open(root / imagenet.TRAIN_TAR, "a") as tar:
        info = tarfile.TarInfo("n99999999.tar")
        inner = imagenet_miniature.tar_bytes({"n99999999_1.JPEG": b"\xff\xd8"})
        info.size = len(inner)
        tar.addfile(info, io.BytesIO(inner))
    with pytest.raises(DataError, match=r"class tars \['n99999999'\].*does not match"):
        load_split("imagenet", "train", root)


def test_a_val_image_without_ground_truth_is_named(miniature, tmp_path):
    root = copy_layout(miniature, "kaggle", tmp_path)
    extra = root / imagenet.KAGGLE / "val" / "ILSVRC2012_val_00000999.JPEG"
    shutil.copy(next((root / imagenet.KAGGLE / "val").iterdir()), extra)
    with pytest.raises(DataError, match=f"{extra} has no label"):
        load_split("imagenet", "val", root)


def test_a_wrong_class_count_is_refused(miniature, tmp_path):
    root = copy_layout(miniature, "folders", tmp_path)
    shutil.rmtree(root / "train" / "n01440764")
    with pytest.raises(DataError, match="holds 999 classes; ILSVRC-2012 has 1000"):
        load_split("imagenet", "train", root)


def test_a_folder_of_no_known_layout_lists_the_three(tmp_path):
    with pytest.raises(DataError, match="official archives.*Kaggle.*folders"):
        load_split("imagenet", "train", tmp_path)


def test_preprocess_reports_bad_data_in_one_line_and_exit_2(miniature, tmp_path, capsys):
    root = copy_layout(miniature, "archives", tmp_path)
    (root / imagenet.TRAIN_TAR).unlink()
    assert preprocess.main(["--dataset=imagenet", f"--data-dir={root}", f"--out={tmp_path / 'cache'}"]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("preprocess: error: ") and imagenet.TRAIN_TAR in error


def test_folders_of_imagenet_wordnet_ids_get_readable_names(tmp_path):
    sample = load_split("sample", "train")
    for wnid in ("n02086240", "n02115641"):  # Imagewoof's Shih-Tzu and dingo
        (tmp_path / "train" / wnid).mkdir(parents=True)
        shutil.copy(sample.paths[0], tmp_path / "train" / wnid / "a.JPEG")
    assert load_split("folder", "train", tmp_path).names == ["Shih-Tzu", "dingo"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
