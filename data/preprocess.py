"""Preprocesses a dataset into the uint8 cache that training reads (see data/cache.py).

The paper's preprocessing: shorter side to 256, central 256x256 crop; then the train
split's mean image, channel mean/std and RGB eigen-decomposition for PCA lighting.
Before writing it prints the images, the cache's size and the free space (and refuses
when the space is not there); a stopped build continues where it stopped
(data/cache_build.py); one process builds a cache folder at a time (a lock in it).

    tools/bazel run //data:preprocess -- --dataset=folder --data-dir DIR --out CACHE_DIR
    tools/bazel run //data:preprocess -- --dataset=imagenet --data-dir DIR_WITH_ILSVRC2012_ARCHIVES --out CACHE_DIR
    python -m data.preprocess --dataset=sample --out /tmp/sample-cache --decoder=pil
"""
import argparse
import fcntl
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from data import turbo
from data.cache import FORMAT_VERSION, CacheError, open_split, pixel_stats, read_manifest, stored_format
from data.cache_build import FORMATS, IMAGE_BYTES, build_split, default_format
from data.datasets import DATASETS, DataError, Split, dataset_root, load_split


# Bytes a 256x256 JPEG entry takes, on average: 20,736 measured on 400 genuine ILSVRC JPEGs
# (docs/IMAGENET.md). The free-space check asks for twice that, as the chunks are joined at the end.
JPEG_BYTES_ESTIMATE = 21_000


def write_stats(cache_dir: Path) -> dict:
    stats, mean_image = pixel_stats(open_split(cache_dir / "train").images)
    np.save(cache_dir / "mean_image.tmp.npy", mean_image)
    os.replace(cache_dir / "mean_image.tmp.npy", cache_dir / "mean_image.npy")
    (cache_dir / "stats.tmp.json").write_text(json.dumps(stats, indent=1))
    os.replace(cache_dir / "stats.tmp.json", cache_dir / "stats.json")
    return stats


def choose_decoder(requested: str) -> str:
    if requested == "turbo" and not turbo.available():
        raise DataError("--decoder=turbo needs //data:libjpeg_crop.so: run under Bazel, or use --decoder=pil")
    if requested == "auto":
        return "turbo" if turbo.available() else "pil"
    return requested


def speed(count: int, seconds: float) -> str:
    """"2.1 s (400 img/s)"; a split done within the clock's resolution gets no rate (it would be noise)."""
    return f"{seconds} s ({count / seconds:.0f} img/s)" if seconds >= 0.1 else f"{seconds} s"


def print_skipped(skipped: list[dict], manifest: Path, shown: int = 20) -> None:
    for entry in skipped[:shown]:
        print(f"  skipped {entry['path']}: {entry['reason']}")
    if len(skipped) > shown:
        print(f"  and {len(skipped) - shown} more, listed in {manifest}")


def gigabytes(count: int) -> str:
    return f"{count / 1e9:,.1f} GB" if count >= 1e8 else f"{count / 1e6:,.1f} MB"


def nearest_folder(path: Path) -> Path:
    while not path.is_dir():
        path = path.parent
    return path


def written_bytes(folder: Path) -> int:
    """What a stopped build already wrote (images.npy is allocated sparsely)."""
    return sum(path.stat().st_blocks * 512 for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else 0


def check_space(splits: dict[str, Split], out: Path, cache_format: str) -> None:
    """Says what the build will cost before it starts, and refuses when the disk cannot hold it."""
    per_image = IMAGE_BYTES if cache_format == "uint8" else JPEG_BYTES_ESTIMATE
    total = sum(len(split) * per_image for split in splits.values())
    peak = total if cache_format == "uint8" else 2 * total
    written = sum(written_bytes(out / f"{name}.partial") for name in splits)
    need, free = max(peak - written, 0), shutil.disk_usage(nearest_folder(out)).free
    counts = " + ".join(f"{len(split):,} {name}" for name, split in splits.items())
    size = f"a {gigabytes(total)} uint8 cache" if cache_format == "uint8" else f"a JPEG cache of about {gigabytes(total)}"
    line = (f"{counts} images: {size} in {out}, {gigabytes(need)} still to write, "
            f"{gigabytes(free)} free there")
    if need > free:
        raise CacheError(f"{line}: not enough space; free {gigabytes(need - free)} or choose another --out/--cache-dir")
    print(line, flush=True)


def preprocess(args: argparse.Namespace) -> None:
    decoder = choose_decoder(args.decoder)
    root = dataset_root(args.dataset, args.data_dir)
    with cache_lock(Path(args.out)):
        build_missing_splits(args, root, decoder)


def build_missing_splits(args: argparse.Namespace, root: Path, decoder: str) -> None:
    out = Path(args.out)
    todo = {}
    for name in args.splits:
        existing = read_manifest(out / name)
        if existing and not args.overwrite:
            stored = stored_format(existing)
            if (existing.get("source") != str(root.resolve()) or existing.get("format") != FORMAT_VERSION
                    or stored != args.cache_format):
                raise CacheError(
                    f"{out / name} already holds a {stored} cache of {existing.get('source')} (format "
                    f"{existing.get('format')}); pass --overwrite to replace it, or choose another --out"
                )
            print(f"{out / name}: up to date ({existing['count']} images), kept")
            continue
        todo[name] = load_split(args.dataset, name, root)
    if todo:
        check_space(todo, out, args.cache_format)
    for name, split in todo.items():
        folder = out / name
        manifest, decoded, seconds = build_split(split, root, folder, args.dataset, decoder, args.workers,
                                                 args.on_bad_image == "skip", args.quiet, args.cache_format)
        print(f"{folder}: {manifest['count']} images, {len(manifest['classes'])} classes, "
              f"{len(manifest['skipped'])} skipped, {decoded} decoded in {speed(decoded, seconds)}, {decoder}")
        print_skipped(manifest["skipped"], folder / "manifest.json")
        if name == "train" or not (out / "stats.json").exists():
            if (out / "train").exists():
                stats = write_stats(out)
                print(f"{out}/stats.json: channel mean {np.round(stats['mean'], 1).tolist()}, "
                      f"eigenvalues {np.round(stats['eigenvalues'], 1).tolist()}")


@contextmanager
def cache_lock(cache: Path) -> Iterator[None]:
    """One builder per cache folder: the processes of a job, on one node or on several sharing
    the folder, take turns, and the ones after the first find the cache finished."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another process to finish the cache in {cache}", file=sys.stderr, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def default_cache_dir(dataset: str, root: Path, cache_format: str = "uint8") -> Path:
    digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:10]
    suffix = "" if cache_format == "uint8" else f"-{cache_format}"
    return Path.home() / ".cache" / "alexnet" / "cache" / f"{dataset}-{digest}{suffix}"


def prepare_cache(dataset: str, data_dir: str | None, cache_dir: str | None = None, quiet: bool = False,
                  cache_format: str = "uint8") -> Path:
    """The cache of the dataset, built on first use: cache_dir, or
    ~/.cache/alexnet/cache/<dataset>-<hash of the source folder>[-jpeg].

    Call it before any process group exists: a build takes hours on ImageNet, and no
    collective may wait on it (train/distributed.py waits for every process's cache
    without a timeout)."""
    root = dataset_root(dataset, data_dir)
    cache = Path(cache_dir) if cache_dir else default_cache_dir(dataset, root, cache_format)
    manifests = [read_manifest(cache / split) for split in ("train", "val")]  # present only when finished
    if all(manifests) and any(m["source"] != str(root.resolve()) for m in manifests):
        raise CacheError(f"{cache} holds a cache of {manifests[0]['source']}, not of {root.resolve()}; "
                         "choose another --cache-dir")
    stored = {stored_format(m) for m in manifests if m}
    if stored - {cache_format}:
        raise CacheError(f"{cache} holds a {' and '.join(sorted(stored))} cache, not {cache_format}; "
                         f"choose another --cache-dir or --cache-format {stored.pop()}")
    if not all(manifests):
        args = [f"--dataset={dataset}", f"--out={cache}", f"--data-dir={root}", f"--cache-format={cache_format}"]
        args += ["--quiet"] if quiet else []
        if main(args) != 0:  # under the cache's lock: a second process waits, then finds it finished
            raise CacheError(f"could not build the cache in {cache} (see the message above)")
    return cache


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
        preprocess(args)
    except (DataError, CacheError) as error:
        print(f"preprocess: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
