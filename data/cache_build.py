"""Writes one split of the cache so that a build stopped at any moment resumes.

The split is written in SPLIT.partial, in chunks of CHUNK images. The uint8 format's
images.npy is allocated at full size up front and each chunk's pixels are flushed into
it; the JPEG format (data/jpeg_cache.py) writes each chunk to chunks/<n>.bin, renamed
into place when whole, and joins them at the end. Only then is the chunk's line (sha256
sums, errors, JPEG lengths) appended to progress.jsonl. A rerun with the same plan (the
same images, labels, decoder and format) keeps the finished chunks and decodes the rest,
so a build killed with -9 resumes to the same bytes as one that never stopped.
"""
import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from data import jpeg_cache, turbo
from data.cache import FORMAT_VERSION
from data.folders import DataError, Extent, Split, read_image_bytes
from data.decode import SIZE, BadImage, load_256

CHUNK = 256
FORMATS = ("uint8", "jpeg")


def default_format(dataset: str) -> str:
    """--cache-format auto: ImageNet's uint8 cache (252 GB) outgrows the archives and most local
    disks, its JPEG one does not; smaller datasets skip the decode (docs/IMAGENET.md has the figures)."""
    return "jpeg" if dataset == "imagenet" else "uint8"


_worker_images: np.ndarray | None = None  # the uint8 format's memory-mapped images.npy
_worker_decoder = "pil"


def decode_file(path: Path, decoder: str, extent: Extent | None = None) -> tuple[np.ndarray, str]:
    """Reads an image once (a file, or in place from an archive): its 256x256 crop and its sha256."""
    data = read_image_bytes(path, extent)
    decode = turbo.load_256_fastest if decoder == "turbo" else load_256
    return decode(path, data), hashlib.sha256(data).hexdigest()


def _init_worker(images_path: Path | None, decoder: str) -> None:
    global _worker_images, _worker_decoder
    _worker_images = np.load(images_path, mmap_mode="r+") if images_path else None
    _worker_decoder = decoder


def _decode_chunk(job: tuple[int, list]) -> tuple[int, list[tuple[str, str | None]], list[bytes]]:
    """Decodes a chunk: into images.npy (uint8 format), or returned as JPEGs (jpeg format)."""
    chunk, images = job
    results, jpegs = [], []
    for index, path, extent in images:
        try:
            pixels, digest = decode_file(path, _worker_decoder, extent)
            if _worker_images is None:
                jpegs.append(jpeg_cache.encode(pixels))
            else:
                _worker_images[index] = pixels
            results.append((digest, None))
        except BadImage as error:
            results.append(("", error.reason))
        except OSError as error:
            results.append(("", f"cannot read ({error})"))
    if _worker_images is not None:
        _worker_images.flush()  # the pixels are on disk before the chunk is recorded as done
    return chunk, results, jpegs


def plan_digest(split: Split, decoder: str, cache_format: str) -> str:
    """What a partial build was building: a resume continues only the same plan."""
    plan = hashlib.sha256(f"{FORMAT_VERSION} {cache_format} {SIZE} {decoder} {split.classes}".encode())
    for index in range(len(split)):
        path, extent = split.location(index)
        plan.update(f"{path}\t{extent}\t{split.labels[index]}\n".encode())
    return plan.hexdigest()


def read_progress(partial: Path, digest: str) -> dict[int, tuple[list, list]]:
    """The finished chunks of a partial build of this plan, each (results, JPEG lengths); {} for a fresh start."""
    try:
        if json.loads((partial / "plan.json").read_text())["digest"] != digest:
            return {}
        lines = (partial / "progress.jsonl").read_text().splitlines()
    except (OSError, ValueError, KeyError):
        return {}
    done = {}
    for line in lines:
        try:
            chunk, results, lengths = json.loads(line)
            done[chunk] = [tuple(result) for result in results], lengths
        except ValueError:
            pass  # the line being written when the build was killed
    return done


def start_or_resume(split: Split, partial: Path, decoder: str, cache_format: str) -> dict[int, tuple[list, list]]:
    digest = plan_digest(split, decoder, cache_format)
    done = read_progress(partial, digest)
    if done:
        return done
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    if cache_format == "uint8":
        np.lib.format.open_memmap(partial / "images.npy", "w+", np.uint8, (len(split), SIZE, SIZE, 3)).flush()
    else:
        (partial / "chunks").mkdir()
    (partial / "plan.json").write_text(json.dumps({"digest": digest, "count": len(split), "decoder": decoder,
                                                   "cache_format": cache_format}))
    (partial / "progress.jsonl").touch()
    return {}


def write_chunk(partial: Path, chunk: int, jpegs: list[bytes]) -> list[int]:
    """A JPEG chunk's file, whole or not at all; returns the JPEGs' lengths."""
    path = partial / "chunks" / f"{chunk:07d}.bin"
    path.with_suffix(".tmp").write_bytes(b"".join(jpegs))
    os.replace(path.with_suffix(".tmp"), path)
    return [len(jpeg) for jpeg in jpegs]


def decode_all(split: Split, partial: Path, decoder: str, cache_format: str, workers: int, label: str,
               quiet: bool) -> tuple[list, list, int]:
    """Fills partial/, resuming a stopped build; returns (sha256, error) per image, the JPEG
    lengths (jpeg format) and how many images this call decoded."""
    done = start_or_resume(split, partial, decoder, cache_format)
    chunks = range(0, -(-len(split) // CHUNK))
    jobs = [(c, [(i, *split.location(i)) for i in range(c * CHUNK, min((c + 1) * CHUNK, len(split)))])
            for c in chunks if c not in done]
    remaining = sum(len(images) for _, images in jobs)
    if done:
        print(f"{label}: resuming a stopped build, {len(split) - remaining} of {len(split)} images already done",
              flush=True)
    progress = tqdm(total=len(split), initial=len(split) - remaining, desc=label, unit="img", smoothing=0.05,
                    disable=quiet)
    images_path = partial / "images.npy" if cache_format == "uint8" else None
    if workers == 1:
        _init_worker(images_path, decoder)
        outcomes, pool = map(_decode_chunk, jobs), None
    else:
        pool = multiprocessing.get_context("fork").Pool(workers, _init_worker, (images_path, decoder))
        outcomes = pool.imap_unordered(_decode_chunk, jobs)
    started, estimated, finished = time.time(), False, 0
    try:
        with open(partial / "progress.jsonl", "a") as log:
            for chunk, results, jpegs in outcomes:
                lengths = write_chunk(partial, chunk, jpegs) if cache_format == "jpeg" else []
                log.write(json.dumps([chunk, results, lengths]) + "\n")
                log.flush()
                done[chunk] = results, lengths
                finished += len(results)
                progress.update(len(results))
                seconds = time.time() - started
                if not estimated and finished < remaining and (seconds > 20 or finished >= 8 * CHUNK):
                    estimated = True
                    rate = finished / seconds
                    print(f"{label}: {rate:.0f} img/s on the first {finished} images: about "
                          f"{duration((remaining - finished) / rate)} to go", file=sys.stderr, flush=True)
    finally:
        progress.close()
        if pool is not None:
            pool.terminate()
    results = [result for chunk in chunks for result in done[chunk][0]]
    return results, [length for chunk in chunks for length in done[chunk][1]], remaining


def duration(seconds: float) -> str:
    """"3 h 05 min", "12 min", "40 s"."""
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def join_chunks(partial: Path, lengths: list[int]) -> None:
    """jpegs.bin and offsets.npy from the chunk files, in order (a kill here only repeats the join)."""
    with open(partial / "jpegs.tmp", "wb") as joined:
        for chunk in sorted((partial / "chunks").iterdir()):
            joined.write(chunk.read_bytes())
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    if os.path.getsize(partial / "jpegs.tmp") != offsets[-1]:
        raise DataError(f"{partial}: the chunk files do not add up to their recorded lengths; delete it and rebuild")
    np.save(partial / "offsets.npy", offsets)
    os.replace(partial / "jpegs.tmp", partial / "jpegs.bin")
    shutil.rmtree(partial / "chunks")


def build_split(split: Split, root: Path, folder: Path, dataset: str, decoder: str, workers: int,
                skip_bad: bool, quiet: bool = False, cache_format: str = "uint8") -> tuple[dict, int, float]:
    """Builds folder (via folder.partial, renamed when complete); returns its manifest, the images
    decoded by this call (fewer than all when it resumed a stopped build) and the seconds taken."""
    partial = folder.with_name(folder.name + ".partial")
    started = time.time()
    results, lengths, decoded = decode_all(split, partial, decoder, cache_format, workers,
                                           f"{dataset}/{folder.name}", quiet)
    images_path = partial / "images.npy"
    bad = [(split.paths[i], error) for i, (_, error) in enumerate(results) if error]
    if bad and not skip_bad:
        listing = "\n".join(f"  {path}: {error}" for path, error in bad[:20])
        raise DataError(f"{len(bad)} unreadable image(s) in {root}:\n{listing}\n(--on-bad-image=skip leaves them out)")
    keep = np.array([error is None for _, error in results], bool)
    labels = np.asarray(split.labels, np.int64)[keep]
    if cache_format == "jpeg":
        join_chunks(partial, lengths)
    elif bad:  # rare: rewrite the array without the holes the bad files left
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
        "cache_format": cache_format,
        **({"jpeg_quality": jpeg_cache.QUALITY} if cache_format == "jpeg" else {}),
        "dataset": dataset,
        "source": str(root.resolve()),
        "split": folder.name,
        "size": SIZE,
        "decoder": decoder,
        "classes": split.classes,
        "names": split.names,
        "count": int(keep.sum()),
        "skipped": [{"path": str(path), "reason": error} for path, error in bad],
    }
    for scratch in ("plan.json", "progress.jsonl"):
        (partial / scratch).unlink()
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=1))
    if folder.exists():
        shutil.rmtree(folder)
    partial.rename(folder)
    return manifest, decoded, round(time.time() - started, 1)
