"""The time-to-accuracy chart draws real runs and names what is wrong with a bad folder."""
import sys

import pytest

from tools import time_to_accuracy
from train.alexnet import main as train


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    common = ["--dataset=sample", "--epochs=2", "--max-steps=2", "--batch-size=16", "--quiet"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(base / "home"))  # the sample's cache, not the user's
        for recipe in ("paper", "fast"):
            assert train(common + [f"--recipe={recipe}", f"--out={base / recipe}"]) == 0
    return [next((base / recipe).iterdir()) for recipe in ("paper", "fast")]


def test_chart_of_two_recipes(runs, tmp_path, capsys):
    out = tmp_path / "chart.png"
    assert time_to_accuracy.main([*map(str, runs), f"--out={out}"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "paper recipe, alexnet" in printed and "fast recipe, alexnet" in printed
    assert "2 epochs in" in printed


def test_a_folder_that_is_not_a_run_is_named(tmp_path, capsys):
    assert time_to_accuracy.main([str(tmp_path), f"--out={tmp_path / 'x.png'}"]) == 2
    assert f"{tmp_path} is not a run folder" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
