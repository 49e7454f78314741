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
        # The second fast seed keeps a weight average too: that watches the run, it is no other recipe.
        for recipe, seed, extra in (("paper", 0, []), ("fast", 0, []), ("fast", 1, ["--average-epochs=1"])):
            out = base / f"{recipe}-{seed}"
            assert train(common + [f"--recipe={recipe}", f"--seed={seed}", f"--out={out}", *extra]) == 0
    return [next((base / name).iterdir()) for name in ("paper-0", "fast-0", "fast-1")]


def test_chart_of_two_recipes(runs, tmp_path, capsys):
    out = tmp_path / "chart.png"
    assert time_to_accuracy.main([*map(str, runs[:2]), f"--out={out}"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "paper recipe, alexnet" in printed and "fast recipe, alexnet" in printed
    assert "2 epochs in" in printed


def test_seeds_of_one_recipe_are_one_band(runs, tmp_path, capsys):
    configs = [time_to_accuracy.read_timed_run(run) for run in runs]
    groups = time_to_accuracy.group_seeds(configs)
    assert [[config["seed"] for config, _ in group] for group in groups] == [[0], [0, 1]]
    xs, means, lows, highs = time_to_accuracy.band(groups[1], "epoch_equivalents", 1)
    assert len(xs) == 2 and all(low <= mean <= high for low, mean, high in zip(lows, means, highs))
    both = [[100 * row["val_top1"] for row in rows] for _, rows in groups[1]]
    assert lows == [min(pair) for pair in zip(*both)] and highs == [max(pair) for pair in zip(*both)]
    assert time_to_accuracy.main([*map(str, runs), f"--out={tmp_path / 'band.png'}"]) == 0
    assert "fast recipe, alexnet, 2 seeds: best top-1 mean" in capsys.readouterr().out


def test_a_folder_that_is_not_a_run_is_named(tmp_path, capsys):
    assert time_to_accuracy.main([str(tmp_path), f"--out={tmp_path / 'x.png'}"]) == 2
    assert f"{tmp_path} is not a run folder" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
