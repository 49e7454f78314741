"""A run killed after epoch k and resumed ends exactly where an uninterrupted run ends."""
import json
import sys
from pathlib import Path

import pytest

from train.alexnet import main

ARGS = ["--dataset=sample", "--batch-size=16", "--max-steps=2", "--quiet", "--seed=3"]


@pytest.fixture(autouse=True)
def cache_in_tmp(tmp_path_factory, monkeypatch):
    """Caches go to a temporary home, not the user's ~/.cache."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.getbasetemp() / "home"))


def metrics(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    keep = ("epoch", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5", "lr")
    return [{k: row[k] for k in keep} for row in rows]


def test_resumed_run_matches_an_uninterrupted_one(tmp_path):
    assert main(ARGS + ["--epochs=3", f"--out={tmp_path / 'straight'}"]) == 0
    (straight,) = list((tmp_path / "straight").iterdir())

    assert main(ARGS + ["--epochs=1", f"--out={tmp_path / 'killed'}"]) == 0
    (killed,) = list((tmp_path / "killed").iterdir())
    assert main([f"--resume={killed}", "--epochs=3", "--quiet"]) == 0

    assert metrics(killed) == metrics(straight)


def test_fast_recipe_run_in_parts_matches_an_uninterrupted_one(tmp_path, capsys):
    # The linear schedule spans --epochs, so a part ends with --stop-after, not a smaller --epochs.
    fast = ARGS + ["--recipe=fast", "--epochs=3", "--warmup-epochs=1", "--res-schedule=1:96,3:128"]
    assert main(fast + [f"--out={tmp_path / 'straight'}"]) == 0
    (straight,) = list((tmp_path / "straight").iterdir())
    assert main(fast + ["--stop-after=1", f"--out={tmp_path / 'parts'}"]) == 0
    (parts,) = list((tmp_path / "parts").iterdir())
    assert f"stopped after epoch 1 of 3; continue with --resume {parts}" in capsys.readouterr().out
    assert main([f"--resume={parts}", "--stop-after=2", "--quiet"]) == 0
    assert main([f"--resume={parts}", "--quiet"]) == 0

    assert metrics(parts) == metrics(straight)
    lrs = [row["lr"] for row in metrics(straight)]
    assert max(lrs) <= 0.02 and lrs[1] > lrs[2] > 0
    config = json.loads((parts / "config.json").read_text())
    assert (config["recipe"], config["schedule"], config["label_smoothing"]) == ("fast", "linear", 0.1)


def test_a_flag_given_at_its_default_value_is_still_checked_on_resume(tmp_path, capsys):
    # The fast recipe trains at 0.02; 0.01 is the flag's default, and must not pass unseen.
    assert main(ARGS + ["--recipe=fast", "--epochs=2", "--stop-after=1", f"--out={tmp_path}"]) == 0
    (run,) = list(tmp_path.iterdir())
    assert main([f"--resume={run}", "--lr=0.01", "--quiet"]) == 2
    assert "trained with lr=0.02; resuming cannot change it to 0.01" in capsys.readouterr().err
    assert main([f"--resume={run}", "--lr=0.02", "--recipe=fast", "--quiet"]) == 0  # agreeing flags are fine


def test_an_interrupted_checkpoint_write_leaves_the_previous_one(tmp_path):
    assert main(ARGS + ["--epochs=1", f"--out={tmp_path}"]) == 0
    (run,) = list(tmp_path.iterdir())
    before = (run / "last.pt").read_bytes()
    # What a kill during torch.save leaves behind: a partial temporary file.
    (run / "last.pt.tmp").write_bytes(before[: len(before) // 3])
    assert main([f"--resume={run}", "--epochs=2", "--quiet"]) == 0
    assert json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["epoch"] == 2


def test_resume_given_the_out_folder_continues_its_newest_run(tmp_path, capsys):
    assert main(ARGS + ["--epochs=1", f"--out={tmp_path}"]) == 0
    (run,) = list(tmp_path.iterdir())
    assert main([f"--resume={tmp_path}", "--epochs=2", "--quiet"]) == 0
    assert f"resuming the newest, {run}" in capsys.readouterr().out
    assert [row["epoch"] for row in metrics(run)] == [1, 2]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
