"""The recipes: their settings, each still a flag of its own, and the per-step learning rate."""
import json
import sys

import pytest

from train import resolution
from train.alexnet import main
from train.config import RECIPES, parse_config
from train.schedule import LearningRate


def test_each_recipe_sets_its_values_and_given_flags_win():
    for name, knobs in RECIPES.items():
        config = parse_config([f"--recipe={name}", "--dataset=sample"], "")
        assert {key: getattr(config, key) for key in knobs} == knobs
        assert parse_config(["--dataset=sample", "--lr=0.05", f"--recipe={name}"], "").lr == 0.05
    paper = parse_config(["--dataset=sample"], "")
    assert (paper.recipe, paper.schedule, paper.label_smoothing, paper.res_schedule) == ("paper", "plateau", 0.0, "")


def test_the_recipes_compute_in_epoch_equivalents():
    def cost(name):
        config = parse_config([f"--recipe={name}", "--dataset=imagenette"], "")
        return resolution.epoch_equivalents(resolution.parse(config.res_schedule), config.epochs)

    assert (cost("paper"), round(cost("fast"), 1), round(cost("long"), 1)) == (60, 12.9, 38.6)


def test_the_long_recipe_trains_on_the_sample(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the sample's cache, not the user's ~/.cache
    assert main(["--recipe=long", "--dataset=sample", "--batch-size=16", "--max-steps=2", "--stop-after=2",
                 "--quiet", f"--out={tmp_path / 'runs'}"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert json.loads((run / "config.json").read_text())["epochs"] == 72
    assert [(row["epoch"], row["train_side"]) for row in rows] == [(1, 128), (2, 128)]
    assert 0 < rows[0]["lr"] < rows[1]["lr"] < 0.02  # still warming up to the recipe's 0.02


def test_linear_schedule_warms_up_then_falls_to_zero_at_the_last_step():
    config = parse_config(["--recipe=fast", "--epochs=4", "--warmup-epochs=1", "--lr=0.1"], "")
    lrs = [LearningRate(config, steps_per_epoch=10).at(step) for step in range(40)]
    assert lrs[:10] == pytest.approx([0.1 * (step + 1) / 10 for step in range(10)])
    assert lrs[10] == pytest.approx(0.1) and lrs[-1] == pytest.approx(0.1 / 30)
    assert all(a > b for a, b in zip(lrs[10:], lrs[11:]))


def test_the_plateau_divides_by_10_once_the_error_stalls_for_longer_than_its_patience():
    config = parse_config(["--warmup-epochs=1", "--patience=2", "--epochs=9"], "")
    learning_rate = LearningRate(config, steps_per_epoch=10)
    errors = [0.9, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7]  # epoch 1's is watched: it ends the warm-up
    lrs = []
    for epoch, error in enumerate(errors):
        lrs.append(learning_rate.at(10 * epoch + 9))
        learning_rate.end_epoch(epoch, error)
    assert lrs == pytest.approx([0.01] * 5 + [0.001] * 4)  # 3 epochs at 0.8 after 0.8: /10 after epoch 5
    assert learning_rate.at(90) == pytest.approx(0.0001)  # 0.7 improved, then stalled 3 epochs: /10 again


def test_cosine_and_step_count_their_epochs_from_the_end_of_the_warm_up():
    cosine = LearningRate(parse_config(["--schedule=cosine", "--epochs=4", "--warmup-epochs=2"], ""), 10)
    assert [cosine.at(10 * epoch) for epoch in range(4)] == pytest.approx([0.0005, 0.0055, 0.01 * (1 + 0.5 ** 0.5) / 2,
                                                                           0.005])
    step = LearningRate(parse_config(["--schedule=step", "--epochs=90", "--warmup-epochs=0"], ""), 10)
    assert [step.at(10 * epoch) for epoch in (0, 29, 30, 60)] == pytest.approx([0.01, 0.01, 0.001, 0.0001])


def test_bad_recipe_and_label_smoothing_are_usage_errors(capsys):
    for argv, message in ((["--recipe=slow"], "invalid choice: 'slow'"), (["--label-smoothing=1"], "[0, 1)")):
        with pytest.raises(SystemExit) as stop:
            parse_config(argv, "")
        assert stop.value.code == 2 and message in capsys.readouterr().err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
