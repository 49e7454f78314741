"""The device check runs every stage end to end at its tiny size on a CPU, and its bundle fits."""
import json
import sys

import pytest

from data.datasets import SAMPLE_DIR
from tools.bench import device_bundle, device_check


def test_every_stage_runs_and_writes_its_figures(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert device_check.main(["--device=cpu", "--tiny", f"--out={tmp_path}"]) == 0
    summary = json.loads((tmp_path / "device_check.json").read_text())
    assert list(summary) == list(device_check.STAGES)
    assert summary["machine"]["matmul_float32_tflops"] > 0 and summary["machine"]["matmul_bfloat16_tflops"] > 0
    outcomes = summary["correctness"]["tests"].values()
    assert outcomes and all(outcome.startswith("skipped: no CUDA device here") for outcome in outcomes), outcomes
    assert summary["speed"]["peer torchvision reference, batch 16"]["images_per_s"] > 0
    assert summary["speed"]["this trainer, batch 16"]["gflop_per_s"] > 0
    assert summary["speed"]["loader alone: uint8 cache, resident, batch 16"]["images_per_s"] > 0
    assert 0 <= summary["accuracy"]["epoch 1"]["val_top1"] <= 1
    assert "accuracy: epoch 1:" in (tmp_path / "device_check.log").read_text()


def test_a_stage_that_runs_past_its_limit_is_stopped_and_the_next_one_runs(tmp_path, monkeypatch):
    monkeypatch.setitem(device_check.LIMITS, "speed", 0.5)  # its caches alone take longer
    assert device_check.main(["--device=cpu", "--tiny", "--only=speed", "--only=accuracy", f"--out={tmp_path}"]) == 1
    summary = json.loads((tmp_path / "device_check.json").read_text())
    assert summary["speed"]["failed"] == "ran past its 0.5 s" and "epoch 1" in summary["accuracy"]


def test_the_bundle_copies_the_first_images_of_each_class_and_refuses_what_is_too_big(tmp_path, monkeypatch, capsys):
    assert device_bundle.main([f"--data-dir={SAMPLE_DIR}", f"--out={tmp_path / 'b'}", "--train-per-class=3",
                               "--val-per-class=2"]) == 0
    assert len(list((tmp_path / "b" / "train").glob("*/*"))) == 30 and len(list((tmp_path / "b" / "val").glob("*/*"))) == 20
    assert "MiB (3 train and 2 val images a class)" in capsys.readouterr().out
    assert device_bundle.main([f"--data-dir={SAMPLE_DIR}", f"--out={tmp_path / 'b'}"]) == 2  # never overwritten
    monkeypatch.setattr(device_bundle, "LIMIT_BYTES", 1000)
    assert device_bundle.main([f"--data-dir={SAMPLE_DIR}", f"--out={tmp_path / 'c'}"]) == 2
    assert "over the 0 MiB a device check may carry" in capsys.readouterr().err and not (tmp_path / "c").exists()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
