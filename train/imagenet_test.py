"""Each ILSVRC-2012 layout goes through preprocessing, two training steps and ten-patch
evaluation, and the caches they give hold the same images with the same labels.
Kaggle's copy goes through the compact JPEG cache, the others through the uint8 one."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from data.cache import open_split
from eval import tenpatch
from tools import imagenet_miniature
from train.alexnet import main as train

CACHE_FORMATS = {"archives": "uint8", "kaggle": "jpeg", "folders": "uint8"}


@pytest.fixture(scope="module")
def miniature(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ilsvrc")
    imagenet_miniature.generate(out, imagenet_miniature.SAMPLE_DIR, per_class=1, val_count=40, side=64, seed=0)
    return out


@pytest.fixture(scope="module")
def trained(miniature, tmp_path_factory) -> dict[str, Path]:
    """The run folder of each layout, trained two steps and evaluated with ten patches."""
    runs = {}
    for layout, cache_format in CACHE_FORMATS.items():
        work = tmp_path_factory.mktemp(layout)
        assert train(["--dataset=imagenet", f"--data-dir={miniature / layout}", f"--cache-dir={work / 'cache'}",
                      f"--cache-format={cache_format}",
                      f"--out={work / 'runs'}", "--epochs=1", "--max-steps=2", "--batch-size=8", "--quiet",
                      "--precision=fp32", "--res-schedule=1:128"]) == 0
        (runs[layout],) = list((work / "runs").iterdir())
        assert tenpatch.main([f"--run={runs[layout]}", "--which=last", "--quiet", "--device=cpu",
                              "--precision=fp32"]) == 0
    return runs


def cache_of(run: Path) -> Path:
    return Path(json.loads((run / "config.json").read_text())["cache_dir"])


def test_every_layout_trains_and_is_evaluated_on_all_of_its_images(trained):
    for layout, run in trained.items():
        metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        assert [row["epoch"] for row in metrics] == [1], layout
        result = json.loads((run / "tenpatch.json").read_text())
        assert result["images"] == 40 and len(result["classes"]) == 1000, layout
        assert result["names"][0] == "tench"


def test_the_caches_of_every_layout_agree_image_for_image(trained):
    for name in ("train", "val"):
        pixels_by_source = {}
        for layout, run in trained.items():
            split = open_split(cache_of(run) / name)
            rows = [line.split("\t") for line in (cache_of(run) / name / "sources.tsv").read_text().splitlines()]
            assert np.array_equal(split.labels, [int(label) for *_, label in rows])
            # source sha256 -> (label, cached pixels)
            pixels_by_source[layout] = {digest: (int(label), split.images[i]) for i, (_, digest, label) in enumerate(rows)}
        archives, kaggle, folders = (pixels_by_source[layout] for layout in CACHE_FORMATS)
        assert archives.keys() == kaggle.keys() == folders.keys(), name
        for digest, (label, pixels) in archives.items():
            assert folders[digest][0] == label and np.array_equal(folders[digest][1], pixels)
            assert kaggle[digest][0] == label  # the JPEG cache: the same image, to within JPEG's rounding
            assert np.abs(kaggle[digest][1].astype(int) - pixels.astype(int)).mean() < 2.0


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
