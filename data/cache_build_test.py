"""A cache build says what it costs, refuses a disk that cannot hold it, and resumes after kill -9
to the same bytes as a build that never stopped."""
import filecmp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data import prepare, preprocess
from data.cache_build import CHUNK
from tools import imagenet_miniature
from tools.testing import small_tmpfs

FILES = {
    "uint8": ["train/images.npy", "val/images.npy"],
    "jpeg": ["train/jpegs.bin", "train/offsets.npy", "val/jpegs.bin", "val/offsets.npy"],
}
COMMON = ["train/labels.npy", "train/sources.tsv", "train/manifest.json", "val/manifest.json", "stats.json"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> Path:
    """A 1,000-image train split: four chunks, so a build can be stopped between them."""
    out = tmp_path_factory.mktemp("ilsvrc")
    imagenet_miniature.generate(out, imagenet_miniature.SAMPLE_DIR, per_class=1, val_count=20, side=48, seed=0)
    return out / "folders"


def command(data_dir: Path, out: Path, cache_format: str = "uint8") -> list[str]:
    return [sys.executable, "-m", "data.preprocess", "--dataset=imagenet", f"--data-dir={data_dir}", f"--out={out}",
            "--decoder=pil", "--workers=1", "--quiet", f"--cache-format={cache_format}"]


def run(data_dir: Path, out: Path, cache_format: str = "uint8") -> str:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(command(data_dir, out, cache_format), env=environment, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


@pytest.mark.parametrize("cache_format", ["uint8", "jpeg"])
def test_a_build_killed_mid_way_resumes_to_identical_bytes(folders, tmp_path, cache_format):
    run(folders, tmp_path / "whole", cache_format)
    stopped = tmp_path / "stopped"
    progress = stopped / "train.partial" / "progress.jsonl"
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    build = subprocess.Popen(command(folders, stopped, cache_format), env=environment, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    # The build (and its worker) runs in short slices and is looked at only while stopped, so
    # the kill lands after its first chunk however busy the machine is, never after its last.
    deadline = time.time() + 120
    while not (progress.is_file() and progress.read_text().count("\n") >= 1) and time.time() < deadline:
        os.killpg(build.pid, signal.SIGCONT)
        time.sleep(0.003)
        os.killpg(build.pid, signal.SIGSTOP)
    os.killpg(build.pid, signal.SIGKILL)
    build.wait()
    chunks_done = progress.read_text().count("\n")
    assert 1 <= chunks_done < 1000 // CHUNK + 1, "the build was not stopped between its chunks"
    printed = run(folders, stopped, cache_format)
    assert f"resuming a stopped build, {chunks_done * CHUNK} of 1000 images already done" in printed
    for name in FILES[cache_format] + COMMON:
        assert filecmp.cmp(tmp_path / "whole" / name, stopped / name, shallow=False), name


def test_the_cost_comes_first_and_quiet_draws_no_progress_bar(folders, tmp_path):
    printed = run(folders, tmp_path / "cache")
    first = printed.splitlines()[0]
    assert first.startswith("1,000 train + 20 val images: a 0.2 GB uint8 cache in ") and " free there" in first
    assert "\r" not in printed


@pytest.mark.parametrize("cache_format, size", [
    ("uint8", "a 0.2 GB uint8 cache"),
    ("jpeg", f"a JPEG cache of about {prepare.gigabytes(1020 * prepare.JPEG_BYTES_ESTIMATE)}"),
])
def test_a_disk_too_small_is_refused_before_anything_is_written(folders, tmp_path, capsys, cache_format, size):
    with small_tmpfs(tmp_path / "small", "4m") as disk:
        out = disk / "cache"
        assert preprocess.main(["--dataset=imagenet", f"--data-dir={folders}", f"--out={out}",
                                f"--cache-format={cache_format}"]) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith(f"preprocess: error: 1,000 train + 20 val images: {size} in {out}")
        assert "still to write, 4." in error and "MB free there: not enough space; free " in error
        assert error.endswith(" or choose another --out/--cache-dir") and "\n" not in error
        assert sorted(p.name for p in out.iterdir()) == [".lock"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
