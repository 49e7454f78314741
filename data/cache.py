"""The cache that training reads: one split's images, preprocessed once.

    CACHE/train/images.npy    (N, 256, 256, 3) uint8, memory-mapped when read; or, in the
                              compact format, jpegs.bin + offsets.npy (data/jpeg_cache.py)
    CACHE/train/labels.npy    (N,) int64
    CACHE/train/sources.tsv   relative path, sha256 and label of every source image
    CACHE/train/manifest.json format version, dataset, source folder, classes, counts,
                              skipped files; written last, so its presence means complete
    CACHE/stats.json          pixel statistics of the train split: channel mean and std, RGB PCA

A split is built in SPLIT.partial and renamed when complete: a folder without a
manifest is never read as a cache.
"""
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data.decode import SIZE
from data.jpeg_cache import JpegImages

IMAGE_BYTES = SIZE * SIZE * 3  # one image of the uint8 format

FORMAT_VERSION = 1


class CacheError(Exception):
    """A missing, incomplete or mismatched cache; the message says which and what to do."""


@dataclass
class CachedSplit:
    images: np.ndarray | JpegImages  # (N, 256, 256, 3) uint8, memory-mapped or decoded on read
    labels: np.ndarray  # (N,) int64
    manifest: dict

    @property
    def classes(self) -> list[str]:
        return self.manifest["classes"]

    @property
    def names(self) -> list[str]:
        return self.manifest["names"]

    def __len__(self) -> int:
        return len(self.labels)


def stored_format(manifest: dict) -> str:
    """"uint8" or "jpeg"; caches from before the JPEG format hold no such key and are uint8."""
    return manifest.get("cache_format", "uint8")


def read_manifest(folder: Path) -> dict | None:
    path = Path(folder) / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else None


def open_split(folder: str | Path) -> CachedSplit:
    """Opens a finished split (data/prepare.py checks that it is of the source asked for)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        hint = " (an interrupted run left it unfinished)" if folder.with_name(folder.name + ".partial").exists() else ""
        raise CacheError(f"{folder} is not a finished cache{hint}; build it with //data:preprocess")
    if manifest.get("format") != FORMAT_VERSION:
        raise CacheError(
            f"{folder} has cache format {manifest.get('format')}, this code reads {FORMAT_VERSION}; rebuild it"
        )
    jpeg = stored_format(manifest) == "jpeg"
    images = JpegImages(folder) if jpeg else np.load(folder / "images.npy", mmap_mode="r")
    labels = np.load(folder / "labels.npy")
    if len(images) != manifest["count"] or len(labels) != manifest["count"]:
        raise CacheError(f"{folder}: manifest says {manifest['count']} images, arrays hold {len(images)}")
    return CachedSplit(images, labels, manifest)


def read_stats(cache_dir: str | Path) -> dict:
    """Channel mean/std (0-255 units) and the RGB covariance's eigenvalues/vectors."""
    path = Path(cache_dir) / "stats.json"
    if not path.is_file():
        raise CacheError(f"{path} is missing; //data:preprocess writes it with the train split")
    return json.loads(path.read_text())


def pixel_stats(images: np.ndarray, chunk: int = 256) -> dict:
    """Per-channel mean/std and the RGB covariance's eigen-decomposition, in pixel units (0-255),
    the units in which PCA lighting adds its noise. (The paper subtracts the mean image; the
    trainer normalises by channel mean and std, so no mean image is kept.)
    """
    n = len(images)
    if n == 0:
        raise CacheError("cannot compute statistics of an empty split")
    sums, outer = np.zeros(3), np.zeros((3, 3))
    for start in range(0, n, chunk):
        pixels = np.asarray(images[start : start + chunk], dtype=np.float64).reshape(-1, 3)
        sums += pixels.sum(axis=0)
        outer += pixels.T @ pixels
    count = n * images.shape[1] * images.shape[2]
    mean = sums / count
    covariance = outer / count - np.outer(mean, mean)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = eigenvalues.argsort()[::-1]
    return {
        "count": n,
        "mean": mean.tolist(),
        "std": np.sqrt(np.diag(covariance)).tolist(),
        "eigenvalues": eigenvalues[order].tolist(),
        "eigenvectors": eigenvectors[:, order].tolist(),  # columns are the eigenvectors
    }
