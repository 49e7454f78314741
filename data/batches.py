"""Batches from a cached split: a seeded reshuffle every epoch, read ahead on a thread.

The order of epoch e depends only on (seed, e), so a run resumed at epoch e sees the
same batches as one that never stopped. Never class-sorted unless asked: the blog's
first run sat at 9.99% because its data arrived one class at a time.
"""
import queue
import threading
from collections.abc import Iterator

import numpy as np
import torch

from data.cache import CachedSplit
from data.jpeg_cache import JpegImages


def epoch_order(count: int, epoch: int, seed: int, shuffle: bool = True) -> torch.Tensor:
    if not shuffle:
        return torch.arange(count)
    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(count, generator=generator)


class BatchLoader:
    """Yields (images uint8 (B, 256, 256, 3), labels int64 (B,)) pinned CPU tensors.

    With rank/world (torchrun), each process takes every world-th sample of the epoch's
    order, so the processes together see each image once per epoch.
    """

    def __init__(self, split: CachedSplit, batch_size: int, seed: int = 0, shuffle: bool = True,
                 drop_last: bool = True, rank: int = 0, world: int = 1, prefetch: int = 3, pin: bool = False,
                 device: torch.device | None = None):
        if batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {batch_size}")
        self.split, self.batch_size, self.seed, self.shuffle = split, batch_size, seed, shuffle
        self.drop_last, self.rank, self.world, self.prefetch, self.pin = drop_last, rank, world, prefetch, pin
        # A JPEG cache is decoded on a CUDA device (nvJPEG) when one trains there.
        self.decode_on_device = isinstance(split.images, JpegImages) and device is not None and device.type == "cuda"
        self.device = device

    def indices(self, epoch: int) -> torch.Tensor:
        order = epoch_order(len(self.split), epoch, self.seed, self.shuffle)
        per_rank = len(order) // self.world
        return order[self.rank :: self.world][:per_rank]

    def __len__(self) -> int:
        per_rank = len(self.split) // self.world
        return per_rank // self.batch_size if self.drop_last else -(-per_rank // self.batch_size)

    def _read(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # Sorted reads walk the memory-mapped file forwards; a batch's order does not matter.
        index = np.sort(index.numpy())
        labels = torch.from_numpy(self.split.labels[index])
        if self.decode_on_device:
            return self.split.images.batch(index, self.device), labels
        images = torch.from_numpy(np.ascontiguousarray(self.split.images[index]))
        return (images.pin_memory(), labels.pin_memory()) if self.pin else (images, labels)

    def epoch(self, epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        batches = list(self.indices(epoch).split(self.batch_size))[: len(self)]
        ready: queue.Queue = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def produce() -> None:
            try:
                for index in batches:
                    if stop.is_set():
                        return
                    ready.put(self._read(index))
            except BaseException as error:  # handed to the consumer, raised there
                ready.put(error)
            ready.put(None)

        thread = threading.Thread(target=produce, daemon=True)
        thread.start()
        try:
            while (item := ready.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while thread.is_alive():  # unblock a producer waiting on a full queue
                try:
                    ready.get_nowait()
                except queue.Empty:
                    thread.join(0.01)
