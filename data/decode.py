"""Decoding that survives real data, and the paper's 256x256 preprocessing with PIL.

Full ImageNet holds greyscale and CMYK JPEGs, PNGs behind .JPEG names, images with
EXIF rotations, and a few truncated files. Every readable one becomes RGB, upright;
an unreadable one raises BadImage naming the file and the reason.
"""
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

SIZE = 256  # the paper: rescale the shorter side to 256, then take the central 256x256


class BadImage(Exception):
    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def open_rgb(path: Path, data: bytes | None = None) -> Image.Image:
    """Decodes an image file (format sniffed from its bytes, not its name) to upright RGB."""
    if data is None:
        data = Path(path).read_bytes()
    if not data:
        raise BadImage(path, "empty file")
    try:
        image = Image.open(io.BytesIO(data))
        image.load()  # decode now, so a truncated file fails here and not later
        image = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise BadImage(path, f"cannot decode ({error})") from None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent pixels over white, as a browser shows them, not over black.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def resize_center_crop(image: Image.Image, size: int = SIZE) -> np.ndarray:
    """Shorter side to `size` (bilinear, antialiased), then the central size x size, as uint8 HWC."""
    width, height = image.size
    scale = size / min(width, height)
    new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
    image = image.resize((new_w, new_h), Image.Resampling.BILINEAR)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return np.asarray(image.crop((left, top, left + size, top + size)))


def load_256(path: Path, data: bytes | None = None) -> np.ndarray:
    return resize_center_crop(open_rgb(path, data))
