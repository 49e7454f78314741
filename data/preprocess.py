"""Preprocesses a dataset into the cache that training reads: the uint8 format or the JPEG one
(data/prepare.py says what is written, and how a stopped build continues).

    tools/bazel run //data:preprocess -- --dataset=folder --data-dir DIR --out CACHE_DIR
    tools/bazel run //data:preprocess -- --dataset=imagenet --data-dir DIR_WITH_ILSVRC2012_ARCHIVES --out CACHE_DIR
    python -m data.preprocess --dataset=sample --out /tmp/sample-cache --decoder=pil
"""
import argparse
import os
import sys
from pathlib import Path

from data.cache import CacheError
from data.cache_build import FORMATS, default_format
from data.datasets import DATASETS
from data.folders import DataError
from data.prepare import build_cache


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument("--data-dir", help="folder holding train/ and val/, ImageNet's archives or Kaggle's copy "
                                           "(or where to download Imagenette)")
    parser.add_argument("--out", required=True, help="cache folder to write")
    parser.add_argument("--splits", default="train,val", type=lambda s: s.split(","), help="default: train,val")
    parser.add_argument("--decoder", choices=("auto", "turbo", "pil"), default="auto",
                        help="auto: libjpeg-turbo where built (Bazel), else PIL")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--on-bad-image", choices=("skip", "fail"), default="skip",
                        help="unreadable files: leave out (counted in the manifest) or stop")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing cache of another source")
    parser.add_argument("--quiet", action="store_true", help="no progress bar: a few lines per split")
    parser.add_argument("--cache-format", choices=("auto", *FORMATS), default="auto",
                        help="uint8: 196,608 bytes an image, read as is; jpeg: 256x256 JPEGs at quality 90, "
                             "decoded each epoch; auto: jpeg for ImageNet, else uint8 (docs/IMAGENET.md)")
    args = parser.parse_args(argv)
    if args.cache_format == "auto":
        args.cache_format = default_format(args.dataset)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    for name in args.splits:
        if name not in ("train", "val"):
            parser.error(f"--splits takes train and/or val, got {name!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))  # `bazel run` starts in the runfiles tree
    args = parse_args(argv)
    try:
        build_cache(args.dataset, args.data_dir, Path(args.out), args.cache_format, args.splits, args.decoder,
                    args.workers, args.on_bad_image == "skip", args.overwrite, args.quiet)
    except (DataError, CacheError) as error:
        print(f"preprocess: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
