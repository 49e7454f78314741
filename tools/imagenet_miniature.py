"""Writes a miniature ILSVRC-2012 in each layout people download it in: 1,000 classes, a few JPEGs each.

    tools/bazel run //tools:imagenet_miniature -- --out /tmp/mini
    tools/bazel run //tools:imagenet_miniature -- --out /tmp/mini --images DIR --per-class 3 --side 500

OUT/archives/  ILSVRC2012_img_train.tar (one <wnid>.tar per class inside), ILSVRC2012_img_val.tar
               (flat ILSVRC2012_val_<n>.JPEG), ILSVRC2012_devkit_t12.tar.gz (data/meta.mat with the
               ILSVRC2012_IDs in a shuffled, non-sorted order and some non-leaf synsets, as the real
               one has, and data/ILSVRC2012_validation_ground_truth.txt)
OUT/kaggle/    ILSVRC/Data/CLS-LOC/train/<wnid>/, ILSVRC/Data/CLS-LOC/val/ (flat),
               LOC_val_solution.csv, LOC_synset_mapping.txt
OUT/folders/   train/<wnid>/, val/<wnid>/

The JPEGs are re-encoded from --images (default: the committed Imagenette sample), the
longer side scaled to --side, each marked with its class and number in one corner so no
two are alike; every layout holds the same bytes under the same names, so a test can
check that an image gets the same label in each.
"""
import argparse
import gzip
import io
import os
import random
import sys
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import io as matlab

from data.datasets import SAMPLE_DIR
from data.folders import IMAGE_EXTENSIONS, IMAGENET_CLASSES
from data.imagenet import DEVKIT, KAGGLE, TRAIN_TAR, VAL_TAR

INTERNAL_SYNSETS = 8  # non-leaf synsets in meta.mat, which parsers must leave out


def synsets() -> list[tuple[str, str]]:
    """(wnid, words) of the 1,000 classes, in sorted WordNet-id order."""
    return [tuple(line.split(" ", 1)) for line in IMAGENET_CLASSES.read_text().splitlines()]


def make_jpeg(source: Image.Image, side: int, mark: int) -> bytes:
    image = source.convert("RGB")
    scale = side / max(image.size)
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    pixels = np.asarray(image).copy()
    corner = min(8, pixels.shape[0], pixels.shape[1])
    pixels[:corner, :corner] = [(mark * 37) % 256, (mark // 7) % 256, (mark * 11 + 101) % 256]
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def tar_bytes(files: dict[str, bytes]) -> bytes:
    """An uncompressed tar of the given files, with fixed times: the same input gives the same bytes."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def meta_mat(classes: list[tuple[str, str]], ids: dict[str, int]) -> bytes:
    """The devkit's meta.mat: a 'synsets' struct array, leaves by ILSVRC2012_ID, then internal nodes."""
    fields = ["ILSVRC2012_ID", "WNID", "words", "gloss", "num_children", "children", "wordnet_height",
              "num_train_images"]
    rows = [(ids[wnid], wnid, words, f"gloss of {words.split(',')[0]}", 0, np.zeros(0), 0, 1300)
            for wnid, words in sorted(classes, key=lambda c: ids[c[0]])]
    for k in range(INTERNAL_SYNSETS):
        children = np.arange(1 + k, len(classes) + 1, INTERNAL_SYNSETS, dtype=np.float64)
        rows.append((len(classes) + 1 + k, f"n0000{k:04d}", f"group {k}", "a non-leaf synset", len(children),
                     children, 1, 0))
    table = np.empty((len(rows), 1), dtype=[(name, object) for name in fields])
    for i, row in enumerate(rows):
        table[i, 0] = row
    out = io.BytesIO()
    matlab.savemat(out, {"synsets": table})
    return out.getvalue()


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def generate(out: Path, images: Path, per_class: int, val_count: int, side: int, seed: int) -> None:
    sources = sorted(p for p in images.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not sources:
        raise SystemExit(f"imagenet_miniature: error: no images under {images}")
    classes = synsets()
    rng = random.Random(seed)
    shuffled = [wnid for wnid, _ in classes]
    rng.shuffle(shuffled)
    ids = {wnid: i + 1 for i, wnid in enumerate(shuffled)}  # ILSVRC2012_ID: not sorted order, as in the devkit
    opened = {}

    def jpeg(number: int) -> bytes:
        source = sources[number % len(sources)]
        if source not in opened:
            opened[source] = Image.open(source)
            opened[source].load()
        return make_jpeg(opened[source], side, number)

    train = {wnid: {f"{wnid}_{j + 1}.JPEG": jpeg(c * per_class + j) for j in range(per_class)}
             for c, (wnid, _) in enumerate(classes)}
    val_labels = [rng.choice(classes)[0] for _ in range(val_count)]
    val = {f"ILSVRC2012_val_{n + 1:08d}.JPEG": jpeg(len(classes) * per_class + n) for n in range(val_count)}

    archives = out / "archives"
    write(archives / TRAIN_TAR, tar_bytes({f"{wnid}.tar": tar_bytes(files) for wnid, files in train.items()}))
    write(archives / VAL_TAR, tar_bytes(val))
    truth = "".join(f"{ids[wnid]}\n" for wnid in val_labels).encode()
    devkit = tar_bytes({"ILSVRC2012_devkit_t12/data/meta.mat": meta_mat(classes, ids),
                        "ILSVRC2012_devkit_t12/data/ILSVRC2012_validation_ground_truth.txt": truth})
    write(archives / DEVKIT, gzip.compress(devkit, mtime=0))

    kaggle = out / "kaggle"
    for wnid, files in train.items():
        for name, data in files.items():
            write(kaggle / KAGGLE / "train" / wnid / name, data)
            write(out / "folders" / "train" / wnid / name, data)
    rows = ["ImageId,PredictionString"]
    for (name, data), wnid in zip(val.items(), val_labels):
        write(kaggle / KAGGLE / "val" / name, data)
        write(out / "folders" / "val" / wnid / name, data)
        rows.append(f"{Path(name).stem},{wnid} 0 0 {side - 1} {side - 1}")
    write(kaggle / "LOC_val_solution.csv", ("\n".join(rows) + "\n").encode())
    write(kaggle / "LOC_synset_mapping.txt", "".join(f"{w} {words}\n" for w, words in classes).encode())


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))  # `bazel run` starts in the runfiles tree
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, help="folder to write archives/, kaggle/, folders/ in")
    parser.add_argument("--images", type=Path, default=SAMPLE_DIR, help="JPEGs to re-encode (default: the sample)")
    parser.add_argument("--per-class", type=int, default=1, help="training images per class")
    parser.add_argument("--val", type=int, default=200, help="validation images, labels drawn at random")
    parser.add_argument("--side", type=int, default=500, help="longer side of each JPEG (ILSVRC's median: 500)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if min(args.per_class, args.val, args.side) < 1:
        parser.error("--per-class, --val and --side must be at least 1")
    generate(args.out, args.images, args.per_class, args.val, args.side, args.seed)
    print(f"{args.out}: archives/, kaggle/ and folders/ with 1000 classes, {1000 * args.per_class} train and "
          f"{args.val} val images of longer side {args.side}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
