"""Ten-patch evaluation and prediction on a model trained on the sample."""
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import torch

from data.datasets import load_split
from eval import predict, tenpatch
from eval.loading import latest_run
from eval.methods import error_rates
from eval.report import confusion_matrix
from train.alexnet import main as train


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        out = tmp_path_factory.mktemp("runs")
        # Trained at 128 px (a resolution schedule), evaluated at 224 as every run is.
        assert train(["--dataset=sample", "--epochs=1", "--batch-size=16", "--max-steps=2", "--quiet",
                      "--res-schedule=1:128", "--precision=fp32", f"--out={out}"]) == 0
        (run_dir,) = list(out.iterdir())
        assert tenpatch.main([f"--run={run_dir}", "--which=last", "--quiet", "--device=cpu", "--precision=fp32"]) == 0
    return run_dir


def test_tenpatch_json_reports_every_method_for_every_image(run):
    result = json.loads((run / "tenpatch.json").read_text())
    assert result["images"] == 80 and result["default"] == "tenpatch_probabilities"
    assert set(result["methods"]) == {"center", "tenpatch_probabilities", "tenpatch_logits", "whole_image",
                                      "tenpatch_and_whole"}
    for rates in result["methods"].values():
        assert 0 <= rates["top5_error"] <= rates["top1_error"] <= 1
    assert len(result["checkpoint_sha256"]) == 64


def test_centre_crop_error_matches_the_trainers_validation(run):
    metrics = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    result = json.loads((run / "tenpatch.json").read_text())
    assert result["methods"]["center"]["top1_error"] == pytest.approx(1 - metrics["val_top1"], abs=1e-6)


def test_reports_and_confusion_matrix_are_written(run):
    assert (run / "confusion.png").stat().st_size > 0
    assert "ten-patch, averaged probabilities (default)" in (run / "tenpatch.md").read_text()
    confusion = json.loads((run / "tenpatch.json").read_text())["confusion"]
    assert sum(map(sum, confusion)) == 80 and len(confusion) == 10


def test_newest_run_is_the_default(run, tmp_path):
    for name, written_at in (("a-newer", 2_000_000_000), ("z-older", 1_000_000_000)):  # not by name: by time
        (tmp_path / name).mkdir()
        shutil.copy(run / "last.pt", tmp_path / name / "last.pt")
        os.utime(tmp_path / name / "last.pt", (written_at, written_at))
    assert latest_run(tmp_path) == tmp_path / "a-newer"


def test_error_rates_count_top1_and_top5_hits():
    scores = torch.tensor([[0.1, 0.9, 0.0, 0.0, 0.0, 0.0], [0.9, 0.0, 0.0, 0.0, 0.0, 0.1], [0.5, 0.4, 0.3, 0.2, 0.1, 0.0]])
    rates = error_rates(scores, torch.tensor([1, 5, 5]))
    assert rates["top1_error"] == pytest.approx(2 / 3) and rates["top5_error"] == pytest.approx(1 / 3)


def test_confusion_rows_are_true_classes():
    matrix = confusion_matrix(torch.tensor([1, 1, 0]), torch.tensor([0, 1, 0]), 2)
    assert matrix.tolist() == [[1, 1], [0, 1]]


def test_dataset_with_other_classes_is_refused(run, tmp_path, capsys):
    sample = Path(load_split("sample", "val").paths[0]).parents[2]
    for split in ("train", "val"):
        for wnid in sorted((sample / split).iterdir())[:3]:
            shutil.copytree(wnid, tmp_path / "tree" / split / wnid.name)
    code = tenpatch.main([f"--run={run}", "--which=last", "--dataset=folder", f"--data-dir={tmp_path / 'tree'}",
                          f"--cache-dir={tmp_path / 'cache'}", "--quiet", f"--out={tmp_path}"])
    assert code == 2 and "differ from the checkpoint's" in capsys.readouterr().err


def test_checkpoint_of_another_model_is_refused(run, tmp_path, capsys):
    state = torch.load(run / "last.pt", weights_only=True)
    state["config"]["model"] = "alexnet-1tower"
    torch.save(state, tmp_path / "other.pt")
    assert tenpatch.main([f"--checkpoint={tmp_path / 'other.pt'}", "--quiet"]) == 2
    assert "does not fit model 'alexnet-1tower'" in capsys.readouterr().err


def test_predict_prints_named_top5_for_each_image(run, capsys):
    images = [str(p) for p in load_split("sample", "val").paths[:2]]
    assert predict.main([f"--run={run}", "--which=last", *images]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == images[0] and len(lines) == 12
    assert all("%" in line and "(n0" in line for line in lines[1:6])


def test_predict_names_an_unreadable_image(run, tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    assert predict.main([f"--run={run}", "--which=last", str(broken)]) == 1
    assert "broken.jpg: cannot read" in capsys.readouterr().err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
