"""The compact cache format: each split's 256x256 crops as JPEGs (quality 90, as FFCV stores
ImageNet) in one file, decoded when a batch is read.

    CACHE/SPLIT/jpegs.bin     the JPEGs, one after another
    CACHE/SPLIT/offsets.npy   (N + 1,) int64: image i is jpegs.bin[offsets[i]:offsets[i + 1]]

About a tenth of the uint8 format (20,736 against 196,608 bytes an image on ILSVRC JPEGs,
docs/IMAGENET.md); it costs a decode per image per epoch: libjpeg-turbo on CPU threads (the ctypes call releases the
GIL), or nvJPEG through torchvision.io.decode_jpeg on CUDA devices, a batch at a time.
"""
import io
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from data import turbo
from data.decode import SIZE

QUALITY = 90


def encode(pixels: np.ndarray) -> bytes:
    """A (256, 256, 3) uint8 crop as JPEG bytes; the same pixels always give the same bytes."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def decode(data: bytes) -> np.ndarray:
    """JPEG bytes of a 256x256 crop back to (256, 256, 3) uint8: libjpeg-turbo where built, else PIL."""
    if turbo.available():
        return turbo.load_256(Path("cache entry"), data)
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@lru_cache(maxsize=None)
def _threads(count: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(count, thread_name_prefix="jpeg-decode")


class JpegImages:
    """Reads like the uint8 format's (N, 256, 256, 3) array: images[i], images[a:b], images[index_array]."""

    dtype = np.uint8
    # Decoding threads (the cores this process may use; macOS has no affinity call);
    # //tools/bench:data sets 1 to measure a core.
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

    def __init__(self, folder: Path):
        self.offsets = np.load(folder / "offsets.npy")
        self.data = np.memmap(folder / "jpegs.bin", np.uint8, "r") if self.offsets[-1] else np.zeros(0, np.uint8)
        self.shape = (len(self.offsets) - 1, SIZE, SIZE, 3)

    def __len__(self) -> int:
        return self.shape[0]

    def encoded(self, i: int) -> bytes:
        return self.data[self.offsets[i] : self.offsets[i + 1]].tobytes()

    def __getitem__(self, index) -> np.ndarray:
        if isinstance(index, (int, np.integer)):
            return decode(self.encoded(int(index)))
        indices = range(len(self))[index] if isinstance(index, slice) else np.asarray(index).tolist()
        out = np.empty((len(indices), SIZE, SIZE, 3), np.uint8)

        def fill(position: int) -> None:
            out[position] = decode(self.encoded(indices[position]))

        list(_threads(self.threads).map(fill, range(len(indices))))
        return out

    def batch(self, indices: np.ndarray, device: torch.device) -> torch.Tensor:
        """(B, 256, 256, 3) uint8 on device: nvJPEG for a batch on CUDA devices, CPU threads elsewhere."""
        if device.type != "cuda":
            return torch.from_numpy(self[indices])
        from torchvision.io import ImageReadMode, decode_jpeg

        encoded = [torch.from_numpy(np.array(self.data[self.offsets[i] : self.offsets[i + 1]])) for i in indices]
        return torch.stack(decode_jpeg(encoded, mode=ImageReadMode.RGB, device=device)).permute(0, 2, 3, 1)
