"""Python binding of //model:liblrn_kernel.so, the fused CPU LRN (model/lrn_kernel.cc).

Under Bazel the library sits beside this module in the runfiles tree. Elsewhere
(`python -m …` on a machine without Bazel, or a GPU) supports() is False and
model/norms.py computes the same formula with PyTorch operations.
"""
import contextlib
import ctypes
from functools import lru_cache
from pathlib import Path

import torch

_LIBRARY = Path(__file__).parent / "liblrn_kernel.so"
_DTYPES = {torch.float32: 0, torch.float64: 1, torch.bfloat16: 2}
_OK = 0
_enabled = True


@lru_cache(maxsize=1)
def _library() -> ctypes.CDLL | None:
    try:
        library = ctypes.CDLL(str(_LIBRARY))
    except OSError:
        return None
    common = [ctypes.c_int64, ctypes.c_int64, ctypes.c_int, ctypes.c_double, ctypes.c_double, ctypes.c_double, ctypes.c_int]
    library.alexnet_lrn_forward.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, *common]
    library.alexnet_lrn_backward.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, *common]
    library.alexnet_lrn_forward.restype = library.alexnet_lrn_backward.restype = ctypes.c_int
    return library


def available() -> bool:
    return _library() is not None


def supports(x: torch.Tensor) -> bool:
    """A CPU (N, C, H, W) map of a handled type, with the library built."""
    return _enabled and x.device.type == "cpu" and x.dim() == 4 and x.dtype in _DTYPES and available()


@contextlib.contextmanager
def disabled():
    """LRN through PyTorch operations inside the block (for the benchmark's comparison)."""
    global _enabled
    _enabled, before = False, _enabled
    try:
        yield
    finally:
        _enabled = before


def _pixels_last(x: torch.Tensor) -> torch.Tensor:
    """x as channels_last memory (a copy only if it is not already)."""
    return x.contiguous(memory_format=torch.channels_last)


def _check(code: int) -> None:
    if code != _OK:
        raise ValueError("the fused LRN kernel refused its arguments (size must be odd and positive)")


def forward(x: torch.Tensor, size: int, alpha: float, beta: float, k: float) -> torch.Tensor:
    x = _pixels_last(x)
    out = torch.empty_like(x)
    n, c, h, w = x.shape
    _check(_library().alexnet_lrn_forward(
        _DTYPES[x.dtype], x.data_ptr(), out.data_ptr(), n * h * w, c, size, alpha, beta, k, torch.get_num_threads()))
    return out


def backward(x: torch.Tensor, grad: torch.Tensor, size: int, alpha: float, beta: float, k: float) -> torch.Tensor:
    x, grad = _pixels_last(x), _pixels_last(grad.to(x.dtype))
    grad_x = torch.empty_like(x)
    n, c, h, w = x.shape
    _check(_library().alexnet_lrn_backward(
        _DTYPES[x.dtype], x.data_ptr(), grad.data_ptr(), grad_x.data_ptr(), n * h * w, c, size, alpha, beta, k,
        torch.get_num_threads()))
    return grad_x
