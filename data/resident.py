"""A small dataset's cache split held in the training device's memory, its batches drawn there.

At the rates a GPU trains AlexNet (thousands of images a second) a host reading and
copying 196,608 bytes an image falls behind. A small dataset's split fits in device
memory (Imagenette's training split is 1.9 GB as uint8; an H200 has 139 GB), so it is
copied once, JPEG caches decoded once (nvJPEG on CUDA), and every batch is gathered on
the device by index: the same batches, in the same order, that BatchLoader yields for
the seed and epoch. The trainer holds a split there by itself when the device is CUDA
and the split takes at most RESIDENT_SHARE of the device's free memory.
"""
from collections.abc import Iterator

import numpy as np
import torch

from data.batches import BatchLoader
from data.cache import IMAGE_BYTES, CachedSplit
from data.jpeg_cache import JpegImages

RESIDENT_SHARE = 0.5  # of the free device memory: the rest is for the network, its activations and cuDNN
DECODE_CHUNK = 1024  # images decoded at a time from a JPEG cache


def split_bytes(split: CachedSplit) -> int:
    return len(split) * IMAGE_BYTES


def fits(splits: list[CachedSplit], free_bytes: int) -> bool:
    return sum(split_bytes(split) for split in splits) <= RESIDENT_SHARE * free_bytes


def resident_on(device: torch.device, splits: list[CachedSplit]) -> str | None:
    """Why these splits go into device memory (a line for the start-up message), or None."""
    if device.type != "cuda":
        return None
    free, _ = torch.cuda.mem_get_info(device)
    if not fits(splits, free):
        return None
    total = sum(split_bytes(split) for split in splits)
    return f"data resident on {device} ({total / 1e9:.1f} GB of {free / 1e9:.1f} GB free)"


class ResidentLoader(BatchLoader):
    """BatchLoader's batches of a split copied to device: (B, 256, 256, 3) uint8 and (B,) int64 there."""

    def __init__(self, split: CachedSplit, batch_size: int, device: torch.device, **options):
        super().__init__(split, batch_size, device=device, **options)
        self.images = torch.empty((len(split), 256, 256, 3), dtype=torch.uint8, device=device)
        for start in range(0, len(split), DECODE_CHUNK):
            index = np.arange(start, min(start + DECODE_CHUNK, len(split)))
            if isinstance(split.images, JpegImages):
                chunk = split.images.batch(index, device)
            else:
                chunk = torch.from_numpy(np.ascontiguousarray(split.images[index]))
            self.images[index[0]:index[-1] + 1] = chunk.to(device)
        self.labels = torch.from_numpy(np.asarray(split.labels)).to(device)

    def epoch(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for index in list(self.indices(epoch).split(self.batch_size))[: len(self)]:
            index = index.sort().values.to(self.device)  # BatchLoader reads a batch in file order too
            yield self.images[index], self.labels[index]
