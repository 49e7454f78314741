"""Odd but readable images become upright RGB; unreadable ones are named, never garbage."""
import io
import sys

import numpy as np
import pytest
from PIL import Image

from data.datasets import load_split
from data.decode import BadImage, load_256, open_rgb


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.open(load_split("sample", "train").paths[0]).convert("RGB").resize((300, 200))


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("mode,fmt", [("L", "JPEG"), ("CMYK", "JPEG"), ("P", "PNG"), ("RGBA", "PNG"), ("LA", "PNG")])
def test_readable_modes_become_256x256_rgb(photo, tmp_path, mode, fmt):
    path = tmp_path / "odd.JPEG"
    path.write_bytes(encode(photo.convert(mode), fmt))
    crop = load_256(path)
    assert crop.shape == (256, 256, 3) and crop.dtype == np.uint8


def test_png_bytes_behind_a_jpeg_name_decode_like_the_png(photo, tmp_path):
    path = tmp_path / "really_a_png.JPEG"
    path.write_bytes(encode(photo, "PNG"))
    assert np.array_equal(np.asarray(open_rgb(path)), np.asarray(photo))


def test_transparent_pixels_become_white(tmp_path):
    path = tmp_path / "clear.png"
    path.write_bytes(encode(Image.new("RGBA", (8, 8), (0, 0, 0, 0)), "PNG"))
    assert np.all(np.asarray(open_rgb(path)) == 255)


def test_exif_rotation_is_applied(photo, tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    path.write_bytes(encode(photo, "JPEG", exif=exif))
    assert open_rgb(path).size == (200, 300)


def test_truncated_jpeg_is_reported_with_its_path(photo, tmp_path):
    path = tmp_path / "cut.JPEG"
    path.write_bytes(encode(photo, "JPEG")[:2000])
    with pytest.raises(BadImage, match="cut.JPEG: cannot decode"):
        load_256(path)


def test_zero_byte_file_is_reported(tmp_path):
    path = tmp_path / "empty.JPEG"
    path.write_bytes(b"")
    with pytest.raises(BadImage, match="empty file"):
        load_256(path)


def test_crop_is_the_centre_of_the_rescaled_image(tmp_path):
    # A 512x256 image whose left and right quarters are black and middle half white:
    # rescaled to 512x256 (already 256 high), the central 256 columns are all white.
    image = np.zeros((256, 512, 3), np.uint8)
    image[:, 128:384] = 255
    path = tmp_path / "bars.png"
    Image.fromarray(image).save(path)
    assert np.all(load_256(path) == 255)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
