"""Preprocesses a dataset into the uint8 cache that training reads (see data/cache.py).

The paper's preprocessing: shorter side to 256, central 256x256 crop; then the train
split's mean image, channel mean/std and RGB eigen-decomposition for PCA lighting.

    tools/bazel run //data:preprocess -- --dataset=folder --data-dir DIR --out CACHE_DIR
    python -m data.preprocess --dataset=sample --out /tmp/sample-cache --decoder=pil
"""
import argparse
import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch.distributed as dist
from tqdm import tqdm

from data import turbo
from data.cache import FORMAT_VERSION, CacheError, open_split, pixel_stats, read_manifest
from data.datasets import DATASETS, DataError, Split, dataset_root, list_split
from data.decode import SIZE, BadImage, load_256

_worker_images: np.ndarray | None = None
_worker_decoder = "pil"


def decode_file(path: Path, decoder: str) -> tuple[np.ndarray, str]:
    """Reads a file once: its 256x256 crop and its sha256."""
    data = path.read_bytes()
    decode = turbo.load_256_fastest if decoder == "turbo" else load_256
    return decode(path, data), hashlib.sha256(data).hexdigest()


def _init_worker(images_path: Path, decoder: str) -> None:
    global _worker_images, _worker_decoder
    _worker_images = np.load(images_path, mmap_mode="r+")
    _worker_decoder = decoder


def _decode_into(job: tuple[int, Path]) -> tuple[int, str, str | None]:
    index, path = job
    try:
        _worker_images[index], digest = decode_file(path, _worker_decoder)
        return index, digest, None
    except BadImage as error:
        return index, "", error.reason
    except OSError as error:
        return index, "", f"cannot read ({error})"


def _decode_all(split: Split, images_path: Path, decoder: str, workers: int, label: str) -> list[tuple[str, str | None]]:
    """Decodes every image into images_path; returns (sha256, error) per image."""
    results: list[tuple[str, str | None]] = [("", None)] * len(split)
    jobs = list(enumerate(split.paths))
    progress = tqdm(total=len(jobs), desc=label, unit="img", smoothing=0.05)
    if workers == 1:
        _init_worker(images_path, decoder)
        outcomes = map(_decode_into, jobs)
        pool = None
    else:
        pool = multiprocessing.get_context("fork").Pool(workers, _init_worker, (images_path, decoder))
        outcomes = pool.imap_unordered(_decode_into, jobs, chunksize=32)
    try:
        for index, digest, error in outcomes:
            results[index] = (digest, error)
            progress.update()
    finally:
        progress.close()
        if pool is not None:
            pool.terminate()
    return results


def build_split(split: Split, root: Path, folder: Path, dataset: str, decoder: str, workers: int, skip_bad: bool) -> dict:
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    started = time.time()
    images_path = partial / "images.npy"
    np.lib.format.open_memmap(images_path, "w+", np.uint8, (len(split), SIZE, SIZE, 3)).flush()
    results = _decode_all(split, images_path, decoder, workers, f"{dataset}/{folder.name}")
    bad = [(path, error) for path, (_, error) in zip(split.paths, results) if error]
    if bad and not skip_bad:
        listing = "\n".join(f"  {path}: {error}" for path, error in bad[:20])
        raise DataError(f"{len(bad)} unreadable image(s) in {root}:\n{listing}\n(--on-bad-image=skip leaves them out)")
    keep = np.array([error is None for _, error in results], bool)
    labels = np.asarray(split.labels, np.int64)[keep]
    if bad:  # rare: rewrite the array without the holes the bad files left
        images = np.load(images_path, mmap_mode="r")
        compact = np.lib.format.open_memmap(partial / "compact.npy", "w+", np.uint8, (int(keep.sum()), SIZE, SIZE, 3))
        compact[:] = images[keep]
        compact.flush()
        del images, compact
        os.replace(partial / "compact.npy", images_path)
    np.save(partial / "labels.npy", labels)
    with open(partial / "sources.tsv", "w") as sources:
        for path, (digest, error), label in zip(split.paths, results, split.labels):
            if error is None:
                sources.write(f"{path.relative_to(root)}\t{digest}\t{label}\n")
    manifest = {
        "format": FORMAT_VERSION,
        "dataset": dataset,
        "source": str(root.resolve()),
        "split": folder.name,
        "size": SIZE,
        "decoder": decoder,
        "classes": split.classes,
        "names": split.names,
        "count": int(keep.sum()),
        "skipped": [{"path": str(path), "reason": error} for path, error in bad],
        "seconds": round(time.time() - started, 1),
    }
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=1))
    if folder.exists():
        shutil.rmtree(folder)
    partial.rename(folder)
    return manifest


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


def preprocess(args: argparse.Namespace) -> None:
    decoder = choose_decoder(args.decoder)
    root = dataset_root(args.dataset, args.data_dir)
    out = Path(args.out)
    for name in args.splits:
        folder = out / name
        split = list_split(root, name)
        existing = read_manifest(folder)
        if existing and not args.overwrite:
            if existing.get("source") != str(root.resolve()) or existing.get("format") != FORMAT_VERSION:
                raise CacheError(
                    f"{folder} already holds a cache of {existing.get('source')} (format {existing.get('format')}); "
                    "pass --overwrite to replace it, or choose another --out"
                )
            print(f"{folder}: up to date ({existing['count']} images), kept")
            continue
        manifest = build_split(split, root, folder, args.dataset, decoder, args.workers, args.on_bad_image == "skip")
        print(f"{folder}: {manifest['count']} images, {len(manifest['classes'])} classes, "
              f"{len(manifest['skipped'])} skipped, {speed(manifest['count'], manifest['seconds'])}, {decoder}")
        print_skipped(manifest["skipped"], folder / "manifest.json")
        if name == "train" or not (out / "stats.json").exists():
            if (out / "train").exists():
                stats = write_stats(out)
                print(f"{out}/stats.json: channel mean {np.round(stats['mean'], 1).tolist()}, "
                      f"eigenvalues {np.round(stats['eigenvalues'], 1).tolist()}")


def prepare_cache(dataset: str, data_dir: str | None, cache_dir: str | None = None, rank: int = 0) -> Path:
    """The uint8 cache of the dataset, built on first use (by rank 0 while other ranks wait):
    cache_dir, or ~/.cache/alexnet/cache/<dataset>-<hash of the source folder>."""
    root = dataset_root(dataset, data_dir)
    digest = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:10]
    cache = Path(cache_dir or Path.home() / ".cache" / "alexnet" / "cache" / f"{dataset}-{digest}")
    manifests = [read_manifest(cache / split) for split in ("train", "val")]
    complete = all(manifests)
    if complete and any(m["source"] != str(root.resolve()) for m in manifests):
        raise CacheError(f"{cache} holds a cache of {manifests[0]['source']}, not of {root.resolve()}; "
                         "choose another --cache-dir")
    if rank == 0 and not complete:
        args = [f"--dataset={dataset}", f"--out={cache}", f"--data-dir={root}"]
        if main(args) != 0:
            raise CacheError(f"could not build the cache in {cache} (see the message above)")
    if dist.is_initialized():
        dist.barrier()
    return cache


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument("--data-dir", help="folder holding train/ and val/ (or where to download Imagenette)")
    parser.add_argument("--out", required=True, help="cache folder to write")
    parser.add_argument("--splits", default="train,val", type=lambda s: s.split(","), help="default: train,val")
    parser.add_argument("--decoder", choices=("auto", "turbo", "pil"), default="auto",
                        help="auto: libjpeg-turbo where built (Bazel), else PIL")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--on-bad-image", choices=("skip", "fail"), default="skip",
                        help="unreadable files: leave out (counted in the manifest) or stop")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing cache of another source")
    args = parser.parse_args(argv)
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
