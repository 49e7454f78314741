"""A dataset's split as (path, label) lists: the Split every layout gives, and the plain
root/<split>/<class>/<image> tree that most datasets are. Classes are the sorted folder
names (WordNet ids for Imagenette and ImageNet), so a class keeps its index across
machines, and each WordNet id gets its readable name from imagenet_classes.txt (timm's
ILSVRC-2012 synset and lemma lists, in the format of the LOC_synset_mapping.txt that
ships with Kaggle's copy).
"""
from dataclasses import dataclass
from pathlib import Path

IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png", ".bmp", ".webp", ".tif", ".tiff")
IMAGENET_CLASSES = Path(__file__).parent / "imagenet_classes.txt"


class DataError(Exception):
    """Bad or missing data; the message says what is wrong and what to do."""


# Where an image's bytes are inside an archive: (archive file, byte offset, size).
Extent = tuple[str, int, int]


@dataclass(frozen=True)
class Split:
    paths: list[Path]  # each image's file, or ARCHIVE/member for an image inside an archive
    labels: list[int]
    classes: list[str]  # folder names (WordNet ids), sorted: index i is label i
    names: list[str]  # human-readable name of each class
    extents: list[Extent] | None = None  # for images read in place from archives

    def __len__(self) -> int:
        return len(self.paths)

    def location(self, index: int) -> tuple[Path, Extent | None]:
        return self.paths[index], self.extents[index] if self.extents else None


def read_image_bytes(path: Path, extent: Extent | None = None) -> bytes:
    """A file's bytes, or an archive member's, read in place without unpacking anything."""
    if extent is None:
        return Path(path).read_bytes()
    archive, offset, size = extent
    with open(archive, "rb") as file:
        file.seek(offset)
        data = file.read(size)
    if len(data) != size:
        raise OSError(f"{archive} ends before {path}'s {size} bytes at offset {offset}")
    return data


def read_synset_mapping(path: Path) -> dict[str, str]:
    """WordNet id -> first lemma, from lines like "n01440764 tench, Tinca tinca"."""
    names = {}
    for line in path.read_text().splitlines():
        wnid, _, label = line.partition(" ")
        names[wnid] = label.split(",")[0].strip()
    return names


def class_names(classes: list[str], root: Path) -> list[str]:
    """Readable names: ImageNet's for WordNet ids (a LOC_synset_mapping.txt in or beside root
    first), else the folder name."""
    names = read_synset_mapping(IMAGENET_CLASSES)
    for mapping in (root / "LOC_synset_mapping.txt", root.parent / "LOC_synset_mapping.txt"):
        if mapping.is_file():
            names.update(read_synset_mapping(mapping))
    return [names.get(c, c) for c in classes]


def class_folders(root: Path, split: str) -> list[str]:
    """The sorted class folders of root/split, without listing their images."""
    folder = root / split
    if not folder.is_dir():
        raise DataError(f"{folder} does not exist; expected {root}/{split}/<class>/<image> folders")
    classes = sorted(entry.name for entry in folder.iterdir() if entry.is_dir())
    if len(classes) < 2:
        raise DataError(f"{folder} holds {len(classes)} class folder(s); a classifier needs at least 2")
    return classes


def list_split(root: Path, split: str) -> Split:
    """Lists root/split/<class>/<image> with sorted classes; errors name what is missing."""
    folder = root / split
    classes = class_folders(root, split)
    paths, labels = [], []
    for label, name in enumerate(classes):
        images = sorted(p for p in (folder / name).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
        if not images:
            raise DataError(f"class folder {folder / name} has no images ({', '.join(IMAGE_EXTENSIONS)})")
        paths += images
        labels += [label] * len(images)
    return Split(paths, labels, classes, class_names(classes, root))
