"""The collapse detector speaks up when a network predicts one class or sits at chance."""
import math
import sys

import pytest
import torch

from train.monitor import collapse_warnings

NAMES = [f"class{i}" for i in range(10)]


def test_one_class_taking_most_predictions_is_flagged():
    counts = torch.tensor([60, 5, 5, 5, 5, 5, 5, 5, 5, 0])
    warnings = collapse_warnings(counts, 1.5, NAMES, {"shuffle": False, "init": "kaiming", "lr": 0.01})
    assert "60% of validation images are predicted as one class (class0)" in warnings[0]
    assert "--no-shuffle" in warnings[-1]


def test_advice_follows_the_runs_settings():
    counts = torch.tensor([60, 5, 5, 5, 5, 5, 5, 5, 5, 0])
    kaiming = collapse_warnings(counts, 1.5, NAMES, {"shuffle": True, "init": "kaiming", "lr": 0.01})[-1]
    assert "--init kaiming" not in kaiming and "--no-shuffle" not in kaiming and "this run: 0.01" in kaiming
    paper = collapse_warnings(counts, 1.5, NAMES, {"shuffle": True, "init": "paper", "lr": 0.01})[-1]
    assert "try --init kaiming" in paper


def test_loss_at_ln_classes_is_flagged():
    warnings = collapse_warnings(torch.full((10,), 10), math.log(10) + 0.001, NAMES)
    assert any("chance level" in w for w in warnings)


def test_a_healthy_epoch_is_quiet():
    assert collapse_warnings(torch.full((10,), 10), 1.2, NAMES) == []


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
