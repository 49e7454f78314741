"""Progressive resizing: the schedule's text, its compute count, and exact resume mid-schedule."""
import json
import sys

import pytest

from train import resolution
from train.alexnet import main
from train.monitor import MetricsLog

ARGS = ["--dataset=sample", "--batch-size=16", "--max-steps=2", "--quiet", "--seed=5", "--res-schedule=1:96,3:160"]


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path_factory.getbasetemp() / "home"))


def test_sides_follow_the_schedule_and_count_as_epoch_equivalents():
    schedule = resolution.parse("1:112,3:224")
    assert [resolution.side_at(schedule, epoch) for epoch in range(4)] == [112, 112, 224, 224]
    assert resolution.epoch_equivalents(schedule, 4) == pytest.approx(0.25 + 0.25 + 1 + 1)
    assert resolution.parse("") == [(1, 224)]


@pytest.mark.parametrize("text, message", [
    ("2:128", "must start at epoch 1"),
    ("1:128,1:160", "must increase"),
    ("1:300", "outside"),
    ("1-128", "is not EPOCH:SIDE"),
])
def test_bad_schedules_are_named(text, message):
    with pytest.raises(resolution.ScheduleError, match=message):
        resolution.parse(text)


def test_bad_schedule_on_the_command_line_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--dataset=sample", "--res-schedule=1:20"])
    assert stop.value.code == 2 and "--res-schedule: crop side 20" in capsys.readouterr().err


def rows(run_dir):
    return MetricsLog(run_dir).read()


def test_resume_in_the_middle_of_a_schedule_is_exact(tmp_path):
    assert main(ARGS + ["--epochs=3", f"--out={tmp_path / 'straight'}"]) == 0
    (straight,) = list((tmp_path / "straight").iterdir())
    assert main(ARGS + ["--epochs=2", f"--out={tmp_path / 'cut'}"]) == 0
    (cut,) = list((tmp_path / "cut").iterdir())
    assert main([f"--resume={cut}", "--epochs=3", "--quiet"]) == 0

    assert json.loads((cut / "config.json").read_text())["res_schedule"] == "1:96,3:160"
    keep = ("train_loss", "val_loss", "val_top1", "train_side", "epoch_equivalents")
    assert [{k: r[k] for k in keep} for r in rows(cut)] == [{k: r[k] for k in keep} for r in rows(straight)]
    assert [r["train_side"] for r in rows(cut)] == [96, 96, 160]
    assert rows(cut)[-1]["epoch_equivalents"] == pytest.approx(2 * (96 / 224) ** 2 + (160 / 224) ** 2)
    elapsed = [r["elapsed_s"] for r in rows(cut)]
    assert elapsed == sorted(elapsed) and elapsed[0] > 0


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
