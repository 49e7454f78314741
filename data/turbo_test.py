"""The libjpeg-turbo path produces what the PIL path produces, and refuses bad input cleanly."""
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data import turbo
from data.datasets import load_split
from data.decode import BadImage, load_256

# Under `bazel test` the library is built beside the module; plain pytest may lack it.
pytestmark = pytest.mark.skipif(not turbo.available() and "TEST_SRCDIR" not in os.environ,
                                reason="libjpeg_crop.so is built by Bazel")


def jpeg_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    return [Image.open(p).convert("RGB") for p in load_split("sample", "val").paths[::8]]


def test_the_decoder_runs_on_the_pinned_libjpeg_turbo_not_the_hosts():
    assert turbo.available()
    loaded = {line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines() if "/libjpeg.so" in line}
    assert loaded and all("libjpeg_turbo" in path for path in loaded), loaded  # @libjpeg_turbo, tools/python/pins.bzl


@pytest.mark.parametrize("size", [(224, 224), (640, 480), (333, 500), (1024, 300)])
def test_turbo_matches_pil_within_two_levels(photos, size):
    # Larger than 256: libjpeg scales in the DCT domain (n/8) before resizing.
    for photo in photos:
        data = jpeg_bytes(photo.resize(size, Image.Resampling.BICUBIC))
        fast, reference = turbo.load_256(Path("x.jpg"), data), load_256(Path("x.jpg"), data)
        assert fast.shape == reference.shape == (256, 256, 3)
        assert np.abs(fast.astype(int) - reference.astype(int)).mean() < 2.0


def test_greyscale_jpeg_becomes_rgb(photos):
    crop = turbo.load_256(Path("x.jpg"), jpeg_bytes(photos[0].convert("L")))
    assert crop.shape == (256, 256, 3) and np.array_equal(crop[..., 0], crop[..., 2])


def test_corrupt_jpeg_is_an_error_not_a_crash(photos):
    with pytest.raises(BadImage, match="bad.jpg: cannot decode"):
        turbo.load_256(Path("bad.jpg"), jpeg_bytes(photos[0])[:3000])
    with pytest.raises(BadImage):
        turbo.load_256(Path("bad.jpg"), b"\xff\xd8\xff\xe0" + b"\x00" * 50)


@pytest.mark.parametrize("case", ["png", "cmyk", "rotated"])
def test_files_for_pil_are_handed_back(photos, case):
    buffer = io.BytesIO()
    if case == "png":
        photos[0].save(buffer, "PNG")
    elif case == "cmyk":
        photos[0].convert("CMYK").save(buffer, "JPEG")
    else:
        exif = Image.Exif()
        exif[0x0112] = 6
        photos[0].save(buffer, "JPEG", exif=exif)
    with pytest.raises(turbo.Unsupported):
        turbo.load_256(Path("x.jpg"), buffer.getvalue())


def test_command_line_binary_writes_the_same_pixels_as_a_ppm(photos, tmp_path):
    source, ppm = tmp_path / "in.jpg", tmp_path / "out.ppm"
    source.write_bytes(jpeg_bytes(photos[0].resize((400, 300))))
    binary = Path(__file__).parent / "jpeg_crop"
    subprocess.run([str(binary), str(source), str(ppm)], check=True)
    assert np.array_equal(np.asarray(Image.open(ppm)), turbo.load_256(source, source.read_bytes()))
    failed = subprocess.run([str(binary), str(tmp_path / "missing.jpg"), str(ppm)], capture_output=True, text=True)
    assert failed.returncode == 1 and "cannot read" in failed.stderr


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
