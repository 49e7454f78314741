"""Python binding of //data:libjpeg_crop.so, the libjpeg-turbo decode/crop (data/jpeg_crop.cc).

Under Bazel the library sits beside this module in the runfiles tree. Elsewhere
(`python -m …` on a machine without Bazel) it is absent and available() is False:
callers then use the PIL path in data/decode.py, which produces the same pixels
to within the parity test's bound.
"""
import ctypes
from functools import lru_cache
from pathlib import Path

import numpy as np

from data.decode import SIZE, BadImage
from data.decode import load_256 as load_256_pil

_LIBRARY = Path(__file__).parent / "libjpeg_crop.so"
_OK, _CORRUPT, _UNSUPPORTED = 0, 1, 2


class Unsupported(Exception):
    """A readable file the turbo path does not handle (not a JPEG, CMYK, EXIF-rotated)."""


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL | None:
    try:
        library = ctypes.CDLL(str(_LIBRARY))
    except OSError:
        return None
    library.jpeg_crop.restype = ctypes.c_int
    library.jpeg_crop.argtypes = [
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
    ]
    return library


def available() -> bool:
    return _library() is not None


def load_256(path: Path, data: bytes, size: int = SIZE) -> np.ndarray:
    """Decodes JPEG bytes to the central size x size crop; raises Unsupported for other files."""
    library = _library()
    if library is None:
        raise RuntimeError(f"{_LIBRARY} is not built; run under Bazel or use the PIL decoder")
    if not data.startswith(b"\xff\xd8"):
        raise Unsupported(f"{path}: not a JPEG")
    out = np.empty((size, size, 3), np.uint8)
    error = ctypes.create_string_buffer(256)
    code = library.jpeg_crop(data, len(data), size, out.ctypes.data, error, len(error))
    if code == _UNSUPPORTED:
        raise Unsupported(f"{path}: {error.value.decode()}")
    if code == _CORRUPT:
        raise BadImage(path, f"cannot decode ({error.value.decode()})")
    return out


def load_256_fastest(path: Path, data: bytes) -> np.ndarray:
    """The turbo path where it is built and handles the file, else PIL's (same pixels within 0.2 levels)."""
    if available():
        try:
            return load_256(path, data)
        except Unsupported:
            pass  # PNG behind a .JPEG name, CMYK, EXIF rotation: PIL handles these
    return load_256_pil(path, data)
