"""The ensemble of models trained apart, from the probabilities //eval:tenpatch saves."""
import json
import shutil
import sys
from pathlib import Path

import pytest
import torch

from eval import ensemble, methods, tenpatch
from eval.methods import PROBABILITIES, error_rates, save_probabilities
from train.alexnet import main as train


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    """Two models of the sample that differ only in seed, each evaluated."""
    home = tmp_path_factory.mktemp("home")
    folders = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        for seed in (0, 1):
            out = tmp_path_factory.mktemp(f"seed-{seed}")
            assert train(["--dataset=sample", "--epochs=1", "--batch-size=16", "--max-steps=2", "--quiet",
                          "--res-schedule=1:128", "--precision=fp32", f"--seed={seed}", f"--out={out}"]) == 0
            (run,) = list(out.iterdir())
            assert tenpatch.main([f"--run={run}", "--which=last", "--quiet", "--precision=fp32"]) == 0
            folders.append(run)
    return folders


def test_saved_probabilities_give_the_reported_error_rates(runs):
    for run in runs:
        saved = torch.load(run / PROBABILITIES, weights_only=True)
        report = json.loads((run / "tenpatch.json").read_text())
        assert saved["checkpoint_sha256"] == report["checkpoint_sha256"] and len(saved["labels"]) == 80
        for name, rates in report["methods"].items():
            probabilities = saved["methods"][name].float()
            assert probabilities.sum(1) == pytest.approx(torch.ones(80), abs=2e-3)
            # fp16 rounding may reorder a near-tie of this barely trained model: one image at most.
            top1_error = error_rates(probabilities, saved["labels"])["top1_error"]
            assert top1_error == pytest.approx(rates["top1_error"], abs=1.5 / 80)


def test_ensemble_reports_members_and_the_mean_of_their_probabilities(runs, tmp_path, capsys):
    assert ensemble.main([*map(str, runs), f"--out={tmp_path}"]) == 0
    result = json.loads((tmp_path / "ensemble.json").read_text())
    saved = [torch.load(run / PROBABILITIES, weights_only=True) for run in runs]
    labels = saved[0]["labels"]
    for name in tenpatch_methods(runs[0]):
        mean = (saved[0]["methods"][name].float() + saved[1]["methods"][name].float()) / 2
        assert result["ensemble"][name] == pytest.approx(error_rates(mean, labels))
        for member, probabilities in zip(result["members"], saved):
            assert member["methods"][name] == pytest.approx(error_rates(probabilities["methods"][name].float(), labels))
    assert [m["folder"] for m in result["members"]] == list(map(str, runs))
    summary = (tmp_path / "ensemble.md").read_text()
    assert "**average of their probabilities**" in summary and summary in capsys.readouterr().out


def test_averaging_probabilities_rights_what_each_member_gets_wrong(tmp_path):
    """Member A is right on images 0 and 2, B on image 1; their mean is right on 0, 1 and 2
    (a maximum over members would not be on image 2, where B's wrong 0.85 tops A's right 0.8)."""
    labels = torch.tensor([0, 1, 2, 0])
    members = {"a": [[.9, .1, 0], [.6, .4, 0], [.2, 0, .8], [.4, .6, 0]],
               "b": [[.3, .7, 0], [0, .9, .1], [0, .85, .15], [.45, .55, 0]]}
    for name, probabilities in members.items():
        (tmp_path / name).mkdir()
        scores = torch.tensor(probabilities)
        save_probabilities(tmp_path / name / PROBABILITIES, labels, {m: scores for m in ensemble.COLUMNS},
                           dataset="made-up", checkpoint=name, checkpoint_sha256=name, classes=["x", "y", "z"])
    result = ensemble.ensemble([tmp_path / "a", tmp_path / "b"])
    assert [m["methods"][methods.CENTER]["top1_error"] for m in result["members"]] == [0.5, 0.75]
    assert result["ensemble"][methods.CENTER]["top1_error"] == 0.25


def test_the_same_checkpoint_twice_is_refused(runs, tmp_path, capsys):
    shutil.copytree(runs[0], tmp_path / "copy")
    assert ensemble.main([str(runs[0]), str(tmp_path / "copy")]) == 2
    assert "hold the same checkpoint" in capsys.readouterr().err


def test_a_folder_without_probabilities_is_named(runs, tmp_path, capsys):
    assert ensemble.main([str(runs[0]), str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert f"{tmp_path}: no {PROBABILITIES}" in error and "//eval:tenpatch" in error


def test_members_evaluated_on_other_images_are_refused(runs, tmp_path, capsys):
    shutil.copytree(runs[1], tmp_path / "other")
    saved = torch.load(runs[1] / PROBABILITIES, weights_only=True)
    saved["labels"] = saved["labels"][:40]
    saved["methods"] = {name: p[:40] for name, p in saved["methods"].items()}
    torch.save(saved, tmp_path / "other" / PROBABILITIES)
    assert ensemble.main([str(runs[0]), str(tmp_path / "other")]) == 2
    assert "evaluated on other images" in capsys.readouterr().err


def test_a_file_of_another_kind_is_refused(runs, tmp_path, capsys):
    (tmp_path / PROBABILITIES).write_bytes(b"not a tensor file")
    assert ensemble.main([str(runs[0]), str(tmp_path)]) == 2
    assert "cannot be read" in capsys.readouterr().err


def tenpatch_methods(run: Path) -> list[str]:
    return list(json.loads((run / "tenpatch.json").read_text())["methods"])


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
