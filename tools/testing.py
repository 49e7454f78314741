"""Helpers that tests in several packages share."""
import ctypes
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_tmpfs(mount: Path, size: str = "1m") -> Iterator[Path]:
    """A tmpfs of `size`: a disk that really fills up. mount(2) through libc, as a sandbox may have
    no mount binary; needs root (CAP_SYS_ADMIN), and skips the test with the reason elsewhere."""
    mount.mkdir(parents=True, exist_ok=True)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mount(b"tmpfs", str(mount).encode(), b"tmpfs", 0, f"size={size}".encode()) != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {os.strerror(ctypes.get_errno())}")
    try:
        yield mount
    finally:
        libc.umount2(str(mount).encode(), 2)  # MNT_DETACH
