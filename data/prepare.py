"""The cache that training reads (data/cache.py), built from a dataset on first use.

The paper's preprocessing: shorter side to 256, central 256x256 crop (data/cache_build.py,
in the uint8 or the JPEG format); then the train split's channel mean/std and RGB
eigen-decomposition for PCA lighting (stats.json). Before writing it prints the images,
the cache's size and the free space (and refuses when the space is not there); a stopped
build continues where it stopped; one process builds a cache folder at a time (a lock in it).
"""
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
from data.cache import FORMAT_VERSION, IMAGE_BYTES, CacheError, open_split, pixel_stats, read_manifest, stored_format
from data.cache_build import build_split
from data.datasets import dataset_root, load_split
from data.folders import DataError, Split


# Bytes a 256x256 JPEG entry takes, on average: 20,736 measured on 400 genuine ILSVRC JPEGs
# (docs/IMAGENET.md). The free-space check asks for twice that, as the chunks are joined at the end.
JPEG_BYTES_ESTIMATE = 21_000


def write_stats(cache_dir: Path) -> dict:
    stats = pixel_stats(open_split(cache_dir / "train").images)
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
    size = f"a {gigabytes(total)} uint8 cache" if cache_format == "uint8" else \
        f"a JPEG cache of about {gigabytes(total)}"
    line = f"{counts} images: {size} in {out}, {gigabytes(need)} still to write, {gigabytes(free)} free there"
    if need > free:
        raise CacheError(f"{line}: not enough space; free {gigabytes(need - free)} or choose another --out/--cache-dir")
    print(line, flush=True)


def build_cache(dataset: str, data_dir: str | None, out: Path, cache_format: str, splits=("train", "val"),
                decoder: str = "auto", workers: int = os.cpu_count() or 1, skip_bad_images: bool = True,
                overwrite: bool = False, quiet: bool = False) -> None:
    """Builds the splits of the cache in out that are missing, under its lock (a second process
    waits, then finds them finished); a split of another source or format is refused unless
    overwrite."""
    decoder = choose_decoder(decoder)
    root = dataset_root(dataset, data_dir)
    with cache_lock(out):
        todo = {name: load_split(dataset, name, root) for name in splits
                if not up_to_date(out / name, root, cache_format, overwrite)}
        if todo:
            check_space(todo, out, cache_format)
        for name, split in todo.items():
            build_one(split, root, out, name, dataset, decoder, workers, skip_bad_images, quiet, cache_format)


def up_to_date(folder: Path, root: Path, cache_format: str, overwrite: bool) -> bool:
    existing = read_manifest(folder)
    if not existing or overwrite:
        return False
    stored = stored_format(existing)
    if existing.get("source") != str(root.resolve()) or existing.get("format") != FORMAT_VERSION \
            or stored != cache_format:
        raise CacheError(f"{folder} already holds a {stored} cache of {existing.get('source')} (format "
                         f"{existing.get('format')}); pass --overwrite to replace it, or choose another --out")
    print(f"{folder}: up to date ({existing['count']} images), kept")
    return True


def build_one(split: Split, root: Path, out: Path, name: str, dataset: str, decoder: str, workers: int,
              skip_bad_images: bool, quiet: bool, cache_format: str) -> None:
    folder = out / name
    manifest, decoded, seconds = build_split(split, root, folder, dataset, decoder, workers, skip_bad_images, quiet,
                                             cache_format)
    print(f"{folder}: {manifest['count']} images, {len(manifest['classes'])} classes, "
          f"{len(manifest['skipped'])} skipped, {decoded} decoded in {speed(decoded, seconds)}, {decoder}")
    print_skipped(manifest["skipped"], folder / "manifest.json")
    if (name == "train" or not (out / "stats.json").exists()) and (out / "train").exists():
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
        build_cache(dataset, str(root), cache, cache_format, quiet=quiet)
    return cache
