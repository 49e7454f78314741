"""A training run on the committed sample writes everything a person needs, and stops cleanly."""
import json
import shutil
import sys
from pathlib import Path

import pytest
import torch

from data.datasets import load_split
from train.alexnet import main

FAST = ["--dataset=sample", "--batch-size=16", "--max-steps=2", "--quiet"]


@pytest.fixture(scope="module", autouse=True)
def cache_in_tmp(tmp_path_factory):
    """Caches go to a temporary home, not the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        yield


def run_dir_of(out: Path) -> Path:
    (run_dir,) = list(out.iterdir())
    return run_dir


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    assert main(FAST + ["--epochs=2", f"--out={out}"]) == 0
    return run_dir_of(out)


def test_run_folder_holds_config_metrics_plot_and_checkpoints(run):
    assert {p.name for p in run.iterdir()} >= {"config.json", "metrics.jsonl", "curves.png", "last.pt", "best.pt"}


def test_config_is_saved_as_resolved(run):
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "alexnet" and config["epochs"] == 2 and config["lr"] == 0.01
    assert config["momentum"] == 0.9 and config["weight_decay"] == 5e-4


def test_metrics_have_one_row_per_epoch_with_every_field(run):
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1, 2]  # counted from 1, as on the console
    for field in ("train_loss", "train_top1", "val_loss", "val_top1", "val_top5", "lr", "images_per_s", "wall_time"):
        assert all(isinstance(row[field], float) for row in rows), field
    assert all(0 <= row["val_top1"] <= row["val_top5"] <= 1 for row in rows)


def test_checkpoint_loads_with_weights_only_and_restores_the_model(run):
    state = torch.load(run / "last.pt", weights_only=True)
    assert state["epoch"] == 1 and state["names"][0] == "tench"
    assert {"model", "optimizer", "learning_rate", "scaler", "rng", "config", "stats"} <= set(state)
    from model.registry import create_model

    create_model("alexnet", 10).load_state_dict(state["model"])


def test_diverging_loss_stops_with_a_clear_message(tmp_path, capsys):
    assert main(FAST + ["--epochs=1", "--lr=1e30", "--model=conv1", f"--out={tmp_path}"]) == 2
    assert "loss became" in capsys.readouterr().err
    assert not (run_dir_of(tmp_path) / "last.pt").exists()
    assert "loss became" in (run_dir_of(tmp_path) / "diverged.txt").read_text()  # what a sweep reads


@pytest.mark.parametrize("flag,message", [("--lr=-1", "must be positive"), ("--model=alexnet9", "unknown model"),
                                          ("--dropout=1.5", "must be in [0, 1)"), ("--epochs=0", "must be positive")])
def test_out_of_range_flags_are_refused(flag, message, capsys):
    with pytest.raises(SystemExit):
        main([flag])
    assert message in capsys.readouterr().err


def test_cache_of_another_source_is_refused(run, tmp_path, capsys):
    (sample_cache,) = (Path.home() / ".cache" / "alexnet" / "cache").glob("sample-*")
    tree = tmp_path / "tree"
    shutil.copytree(Path(load_split("sample", "train").paths[0]).parents[2], tree)
    assert main(["--dataset=folder", f"--data-dir={tree}", f"--cache-dir={sample_cache}", "--quiet", f"--out={tmp_path}"]) == 2
    assert "holds a cache of" in capsys.readouterr().err


def test_bad_data_leaves_no_empty_run_folder(tmp_path, capsys):
    assert main(["--dataset=folder", f"--data-dir={tmp_path / 'missing'}", "--quiet", f"--out={tmp_path / 'runs'}"]) == 2
    assert f"--data-dir {tmp_path / 'missing'} is not a folder" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_resume_of_a_folder_without_a_run_is_refused(tmp_path, capsys):
    assert main(["--dataset=sample", f"--resume={tmp_path}"]) == 2
    assert "neither a run folder" in capsys.readouterr().err


def test_resume_with_another_model_is_refused(run, capsys):
    assert main(["--dataset=sample", f"--resume={run}", "--model=alexnet-nolrn"]) == 2
    assert "trained with model='alexnet'" in capsys.readouterr().err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
