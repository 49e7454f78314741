"""Where a run computes and in which precision: one choice for training and evaluation alike."""
from contextlib import AbstractContextManager, nullcontext

import torch


class DeviceError(Exception):
    pass


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank)
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError("--device cuda asked for, but torch sees no CUDA device")
    return device


def autocast_context(precision: str, device: torch.device) -> tuple[AbstractContextManager, str, bool]:
    """The autocast context for precision on device, the precision's name (fp32, bfloat16, float16),
    and whether training needs a GradScaler."""
    if precision == "auto":
        if device.type == "cuda":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        elif device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
            precision = "bf16"
        else:
            precision = "fp32"
    if precision == "fp32":
        return nullcontext(), "fp32", False
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    return torch.autocast(device.type, dtype=dtype), str(dtype).removeprefix("torch."), dtype == torch.float16
