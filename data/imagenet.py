"""ILSVRC-2012 read where it lies, in any of the three layouts people have.

    DIR/ILSVRC2012_img_train.tar, ILSVRC2012_img_val.tar, ILSVRC2012_devkit_t12.tar.gz
        the official archives, never extracted: the train tar's 1,000 inner class tars and
        the val tar's 50,000 JPEGs are indexed in place, each image becoming an extent
        (archive, byte offset, size); val labels come from the devkit's ground truth,
        whose ILSVRC2012_IDs meta.mat maps to WordNet ids (not in sorted order)
    DIR/ILSVRC/Data/CLS-LOC/{train/<wnid>/, val/} + DIR/LOC_val_solution.csv   Kaggle's copy
    DIR/train/<wnid>/, DIR/val/<wnid>/                                          sorted folders

Whatever the layout, the classes are the 1,000 WordNet ids in sorted order, so label i
means the same class in every layout and a checkpoint means the same thing.
"""
import csv
import hashlib
import io
import re
import sys
import tarfile
from functools import lru_cache
from pathlib import Path

from data.folders import DataError, Split, class_folders, class_names, list_split

TRAIN_TAR, VAL_TAR, DEVKIT = "ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar", "ILSVRC2012_devkit_t12.tar.gz"
# torchvision.datasets.ImageNet's md5 of the official devkit; the 138 GB and 6.3 GB archives
# are not hashed (minutes of reading, and re-packed copies are common).
DEVKIT_MD5 = "fa75699e90414af021442c21a62c3abf"
KAGGLE = Path("ILSVRC/Data/CLS-LOC")
KAGGLE_VAL_LABELS = "LOC_val_solution.csv"
CLASS_COUNT = 1000
VAL_NAME = re.compile(r"ILSVRC2012_val_(\d{8})\.JPEG$")


def layout(root: Path) -> str:
    """'archives', 'kaggle' or 'folders', from what root holds; DataError when it is none of them."""
    if any((root / name).exists() for name in (TRAIN_TAR, VAL_TAR, DEVKIT)):
        return "archives"
    if (root / KAGGLE).is_dir():
        return "kaggle"
    if (root / "train").is_dir():
        return "folders"
    raise DataError(
        f"{root} holds no ILSVRC-2012 layout this reader knows: the official archives ({TRAIN_TAR}, {VAL_TAR}, "
        f"{DEVKIT}), Kaggle's copy ({KAGGLE}/ and {KAGGLE_VAL_LABELS}), or train/<wnid>/ and val/<wnid>/ folders"
    )


def load_split(root: Path, split: str) -> Split:
    """One split of ILSVRC-2012 in root, whichever layout it is in."""
    found = layout(root)
    if found == "archives":
        return _archive_split(root, split)
    if found == "kaggle":
        return _kaggle_split(root, split)
    return _folder_split(root, split)


def _check_classes(classes: list[str], where: Path | str) -> None:
    if len(classes) != CLASS_COUNT:
        raise DataError(f"{where} holds {len(classes)} classes; ILSVRC-2012 has {CLASS_COUNT}")


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"{path} is missing; the official layout needs {TRAIN_TAR}, {VAL_TAR} and {DEVKIT} side by side")
    return path


# ---- The official archives ------------------------------------------------------------


def parse_meta_mat(data: bytes) -> dict[int, str]:
    """ILSVRC2012_ID -> WordNet id of the leaf synsets (num_children == 0) in the devkit's meta.mat,
    read as torchvision.datasets.ImageNet reads it (its parser is not importable on its own)."""
    from scipy import io as matlab

    synsets = matlab.loadmat(io.BytesIO(data), squeeze_me=True)["synsets"]
    return {int(s["ILSVRC2012_ID"]): str(s["WNID"]) for s in synsets if int(s["num_children"]) == 0}


@lru_cache(maxsize=4)
def read_devkit(archive: Path) -> tuple[dict[int, str], list[int]]:
    """ILSVRC2012_ID -> WordNet id of the 1,000 classes, and the val images' IDs in file order,
    read from the devkit archive in memory (nothing is written beside it); once per archive,
    so an unofficial devkit is warned about once, not once per split."""
    if hashlib.md5(archive.read_bytes()).hexdigest() != DEVKIT_MD5:
        print(f"warning: {archive} differs from the official devkit (md5 {DEVKIT_MD5}); reading it anyway",
              file=sys.stderr)
    wanted = {"meta.mat": None, "ILSVRC2012_validation_ground_truth.txt": None}
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                parts = Path(member.name).parts
                if member.isfile() and len(parts) >= 2 and parts[-2] == "data" and parts[-1] in wanted:
                    wanted[parts[-1]] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DataError(f"{archive} is not a readable .tar.gz ({error})") from None
    missing = [name for name, data in wanted.items() if data is None]
    if missing:
        raise DataError(f"{archive} lacks data/{' and data/'.join(missing)}; is it ILSVRC2012_devkit_t12?")
    try:
        id_to_wnid = parse_meta_mat(wanted["meta.mat"])
        truth = [int(line) for line in wanted["ILSVRC2012_validation_ground_truth.txt"].split()]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise DataError(f"{archive}: cannot read its meta.mat or ground truth ({error})") from None
    if len(id_to_wnid) != CLASS_COUNT:
        raise DataError(f"{archive}: meta.mat lists {len(id_to_wnid)} leaf classes; ILSVRC-2012 has {CLASS_COUNT}")
    unknown = sorted(set(truth) - set(id_to_wnid))
    if unknown:
        raise DataError(f"{archive}: the val ground truth names ILSVRC2012_IDs {unknown[:3]} that meta.mat lacks")
    return id_to_wnid, truth


def index_train_tar(archive: Path) -> list[tuple[str, str, int, int]]:
    """(wnid, image name, offset, size) of every image in the tar of class tars, read in place."""
    images = []
    with open(archive, "rb") as file, tarfile.open(fileobj=file, mode="r:") as outer:
        for member in outer:
            if not member.isfile():
                continue
            if not member.name.endswith(".tar"):
                raise DataError(f"{archive} holds {member.name!r}; expected one <wnid>.tar per class")
            wnid = Path(member.name).stem
            with tarfile.open(fileobj=outer.extractfile(member), mode="r:") as inner:
                found = [(wnid, image.name, member.offset_data + image.offset_data, image.size)
                         for image in inner if image.isfile()]
            if not found:
                raise DataError(f"{archive}: {member.name} holds no images")
            images += found
    return images


def index_flat_tar(archive: Path) -> list[tuple[str, int, int]]:
    """(name, offset, size) of every file in a tar of images."""
    with open(archive, "rb") as file, tarfile.open(fileobj=file, mode="r:") as tar:
        return [(member.name, member.offset_data, member.size) for member in tar if member.isfile()]


def _archive_split(root: Path, split: str) -> Split:
    id_to_wnid, truth = read_devkit(_require(root / DEVKIT))
    classes = sorted(id_to_wnid.values())
    label_of = {wnid: label for label, wnid in enumerate(classes)}
    paths, labels, extents = [], [], []
    if split == "train":
        archive = _require(root / TRAIN_TAR)
        print(f"indexing {archive} in place (one pass over its headers)", file=sys.stderr, flush=True)
        entries = index_train_tar(archive)
        found = {wnid for wnid, *_ in entries}
        unknown = sorted(found - set(label_of))
        if unknown:
            raise DataError(f"{archive} holds class tars {unknown[:3]}… that {root / DEVKIT}'s meta.mat does not "
                            "list: the devkit does not match the archive")
        for wnid, name, offset, size in sorted(entries, key=lambda e: (e[0], e[1])):
            paths.append(archive / f"{wnid}.tar" / name)
            labels.append(label_of[wnid])
            extents.append((str(archive), offset, size))
        _check_classes(sorted(found), archive)
    else:
        archive = _require(root / VAL_TAR)
        for name, offset, size in sorted(index_flat_tar(archive)):
            number = VAL_NAME.search(name)
            if number is None or not 1 <= int(number.group(1)) <= len(truth):
                raise DataError(f"{archive}: {name} has no label in {root / DEVKIT}'s ground truth "
                                f"({len(truth)} lines; expected ILSVRC2012_val_<number>.JPEG)")
            paths.append(archive / name)
            labels.append(label_of[id_to_wnid[truth[int(number.group(1)) - 1]]])
            extents.append((str(archive), offset, size))
    return Split(paths, labels, classes, class_names(classes, root), extents)


# ---- Sorted folders ---------------------------------------------------------------------


def _folder_split(root: Path, split: str) -> Split:
    """train/<wnid>/ and val/<wnid>/; the classes are train's, so a val/ that lacks some keeps the labels."""
    classes = class_folders(root, "train")  # not list_split: val needs train's classes, not its 1.28 M paths
    _check_classes(classes, root / "train")
    if split == "train":
        return list_split(root, "train")
    val = list_split(root, "val")
    label_of = {wnid: label for label, wnid in enumerate(classes)}
    unknown = sorted(set(val.classes) - set(label_of))
    if unknown:
        raise DataError(f"{root / 'val'} has class folders {unknown[:3]} that {root / 'train'} lacks")
    return Split(val.paths, [label_of[val.classes[label]] for label in val.labels], classes, class_names(classes, root))


# ---- Kaggle's copy ----------------------------------------------------------------------


def read_kaggle_val_labels(csv_path: Path) -> dict[str, str]:
    """ImageId -> WordNet id, the first box's class in LOC_val_solution.csv."""
    if not csv_path.is_file():
        raise DataError(f"{csv_path} is missing; Kaggle's layout labels its flat val/ folder with it")
    with open(csv_path, newline="") as file:
        rows = list(csv.DictReader(file))
    if not rows or not {"ImageId", "PredictionString"} <= set(rows[0]):
        raise DataError(f"{csv_path} should have the columns ImageId,PredictionString")
    return {row["ImageId"]: row["PredictionString"].split()[0] for row in rows}


def _kaggle_split(root: Path, split: str) -> Split:
    data = root / KAGGLE
    classes = class_folders(data, "train")  # the train folders' classes, in both splits
    _check_classes(classes, data / "train")
    if split == "train":
        train = list_split(data, "train")
        return Split(train.paths, train.labels, classes, class_names(classes, root))
    labels_csv = read_kaggle_val_labels(root / KAGGLE_VAL_LABELS)
    label_of = {wnid: label for label, wnid in enumerate(classes)}
    paths, labels = [], []
    for path in sorted((data / "val").glob("*.JPEG")):
        wnid = labels_csv.get(path.stem)
        if wnid not in label_of:
            raise DataError(f"{path} has no label among the 1,000 train classes in {root / KAGGLE_VAL_LABELS} "
                            f"(found {wnid!r})")
        paths.append(path)
        labels.append(label_of[wnid])
    if not paths:
        raise DataError(f"{data / 'val'} holds no ILSVRC2012_val_*.JPEG images")
    return Split(paths, labels, classes, class_names(classes, root))
