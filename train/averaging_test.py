"""--average-epochs: the mean of the weights over the last epochs, kept across a resume, evaluated by //eval."""
import json
import sys

import pytest
import torch

from eval import tenpatch
from train.alexnet import main as train
from train.checkpoint import load

ARGS = ["--dataset=sample", "--epochs=3", "--max-steps=1", "--batch-size=8", "--quiet", "--average-epochs=2"]


def test_the_mean_of_the_last_epochs_weights_survives_a_resume_and_is_evaluated(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert train([*ARGS, f"--out={tmp_path}", "--stop-after=2"]) == 0  # epochs 1-2; the mean starts at 2
    run = next(tmp_path.glob("alexnet-*"))
    after_epoch2 = load(run / "last.pt")["model"]
    assert torch.equal(load(run / "averaged.pt")["model"]["features.0.weight"], after_epoch2["features.0.weight"])
    assert train([f"--resume={run}", "--quiet"]) == 0  # epoch 3, one step
    after_epoch3 = load(run / "last.pt")["model"]
    averaged = load(run / "averaged.pt")
    assert averaged["epoch"] == 2 and set(averaged["model"]) == set(after_epoch3)
    for name, weights in averaged["model"].items():  # one step in each of the two averaged epochs
        torch.testing.assert_close(weights, (after_epoch2[name] + after_epoch3[name]) / 2)
    assert not torch.equal(after_epoch2["features.0.weight"], after_epoch3["features.0.weight"])
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert ["val_top1_averaged" in row for row in rows] == [False, True, True]
    capsys.readouterr()
    assert tenpatch.main([f"--run={run}", "--which=averaged", "--quiet", f"--out={tmp_path / 'eval'}"]) == 0
    assert json.loads((tmp_path / "eval" / "tenpatch.json").read_text())["checkpoint"] == str(run / "averaged.pt")


def test_more_epochs_on_a_resume_start_the_mean_afresh(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert train([*ARGS, f"--out={tmp_path}"]) == 0  # the mean of epochs 2-3
    run = next(tmp_path.glob("alexnet-*"))
    assert train([f"--resume={run}", "--quiet", "--epochs=4"]) == 0  # the window moves to epochs 3-4
    last, averaged = load(run / "last.pt")["model"], load(run / "averaged.pt")["model"]
    assert all(torch.equal(averaged[name], last[name]) for name in last)  # epoch 4's one step, not 2-4's mean


def test_a_run_without_the_average_says_so_and_more_epochs_than_the_run_are_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert train([*ARGS[:-1], f"--out={tmp_path}", "--epochs=1"]) == 0
    run = next(tmp_path.glob("alexnet-*"))
    assert not (run / "averaged.pt").exists()
    assert tenpatch.main([f"--run={run}", "--which=averaged", "--quiet"]) == 2
    assert "not trained with --average-epochs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train([*ARGS, "--average-epochs=4"])
    assert "--average-epochs must be from 0 to --epochs (3), got 4" in capsys.readouterr().err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
