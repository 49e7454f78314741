"""The images the device check trains on, small enough to travel to a GPU machine.

    tools/bazel run //tools/bench:device_bundle -- --data-dir ../shared/data/imagenette2-224sq --out device-bundle
    python -m tools.bench.device_bundle --data-dir DIR --out device-bundle

Copies the first --train-per-class and --val-per-class images of each class of an
Imagenette-like tree (DIR/train/<class>/, DIR/val/<class>/) into OUT, a tree of the same
shape (the repository's .gitignore keeps device-bundle/ out of git), and prints its size;
refuses when it would not fit the transfer limit. The device check builds its caches from
it on the GPU machine, in seconds.
"""
import argparse
import os
import shutil
import sys
from pathlib import Path

from data.folders import DataError, list_split

LIMIT_BYTES = 50 * 2**20  # the GPU machine takes 64 MiB in all; the rest is the code


def bundle(data_dir: Path, out: Path, per_class: dict[str, int]) -> int:
    """The bytes written to out."""
    if out.exists():
        raise DataError(f"{out} exists; remove it or choose another --out")
    chosen = []
    for split, count in per_class.items():
        listed = list_split(data_dir, split)
        for label, name in enumerate(listed.classes):
            chosen += [(split, name, path) for path, l in zip(listed.paths, listed.labels) if l == label][:count]
    size = sum(path.stat().st_size for _, _, path in chosen)
    if size > LIMIT_BYTES:
        raise DataError(f"{len(chosen)} images take {size / 2**20:.1f} MiB, over the {LIMIT_BYTES / 2**20:.0f} MiB "
                        "a device check may carry; choose fewer per class")
    for split, name, path in chosen:
        (out / split / name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out / split / name / path.name)
    return size


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="a tree with train/<class>/ and val/<class>/")
    parser.add_argument("--out", type=Path, default=Path("device-bundle"))
    parser.add_argument("--train-per-class", type=int, default=120)
    parser.add_argument("--val-per-class", type=int, default=30)
    args = parser.parse_args(argv)
    try:
        size = bundle(args.data_dir, args.out, {"train": args.train_per_class, "val": args.val_per_class})
    except DataError as error:
        print(f"device_bundle: error: {error}", file=sys.stderr)
        return 2
    print(f"{args.out}: {size / 2**20:.1f} MiB ({args.train_per_class} train and {args.val_per_class} val images "
          f"a class), under the {LIMIT_BYTES / 2**20:.0f} MiB the device check may carry")
    return 0


if __name__ == "__main__":
    sys.exit(main())
