"""The recipes: their settings, each still a flag of its own, and the per-step learning rate."""
import sys

import pytest

from train.alexnet import step_lr
from train import resolution
from train.config import RECIPES, parse_config


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


def test_linear_schedule_warms_up_then_falls_to_zero_at_the_last_step():
    config = parse_config(["--recipe=fast", "--epochs=4", "--warmup-epochs=1", "--lr=0.1"], "")
    lrs = [step_lr(config, step, steps_per_epoch=10) for step in range(40)]
    assert lrs[:10] == pytest.approx([0.1 * (step + 1) / 10 for step in range(10)])
    assert lrs[10] == pytest.approx(0.1) and lrs[-1] == pytest.approx(0.1 / 30)
    assert all(a > b for a, b in zip(lrs[10:], lrs[11:]))


def test_epoch_schedules_leave_the_learning_rate_to_their_scheduler_after_the_warm_up():
    config = parse_config(["--warmup-epochs=1"], "")
    assert step_lr(config, 9, 10) == pytest.approx(config.lr)
    assert step_lr(config, 10, 10) is None


def test_bad_recipe_and_label_smoothing_are_usage_errors(capsys):
    for argv, message in ((["--recipe=slow"], "invalid choice: 'slow'"), (["--label-smoothing=1"], "[0, 1)")):
        with pytest.raises(SystemExit) as stop:
            parse_config(argv, "")
        assert stop.value.code == 2 and message in capsys.readouterr().err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
