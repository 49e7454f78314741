"""The ablation ladder runs to a table, and a rerun skips the finished rows."""
import sys

import pytest

from tools import ablations
from tools.runs import RunError, best_top1, read_run, train_to_end


def test_ladder_writes_a_table_and_a_plot_and_skips_finished_rows(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    args = ["--dataset=sample", "--epochs=1", "--max-steps=1", "--batch-size=8", "--only=1,2,3", f"--out={tmp_path}"]
    assert ablations.main(args) == 0
    table = (tmp_path / "ablations.md").read_text().splitlines()
    assert len(table) == 5 and table[2].startswith("| AlexNet, the recipe |")
    assert table[3].startswith("| batches not shuffled |") and "| 9.99% |" in table[3]
    assert table[4].startswith("| MLP |") and "| mlp |" in table[4]
    assert (tmp_path / "ablations.png").stat().st_size > 0
    runs = sorted(p.name for p in (tmp_path / "mlp").iterdir())
    capsys.readouterr()
    assert ablations.main(args) == 0
    assert sorted(p.name for p in (tmp_path / "mlp").iterdir()) == runs  # no new run
    assert "run folder" not in capsys.readouterr().out


def test_the_sweep_runs_each_rate_for_network_rows_and_reports_the_best(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    args = ["--dataset=sample", "--epochs=1", "--max-steps=1", "--batch-size=8", "--only=1,3,4",
            "--lr-sweep=0.001,0.004,0.002", "--lr-sweep=4:0.01,0.04,0.02", f"--out={tmp_path}"]
    assert ablations.main(args) == 0
    assert sorted(p.name for p in (tmp_path / "mlp").iterdir()) == ["lr-0.001", "lr-0.002", "lr-0.004"]
    # Row 4's own sweep replaces the common one for it alone.
    assert sorted(p.name for p in (tmp_path / "one-convolution-layer").iterdir()) == ["lr-0.01", "lr-0.02", "lr-0.04"]
    recipe, mlp, conv1 = (tmp_path / "ablations.md").read_text().splitlines()[2:5]
    assert recipe.endswith("| 0.02 |  |")  # the recipe's own rate, not swept
    for row, rates in ((mlp, ["0.001", "0.002", "0.004"]), (conv1, ["0.01", "0.02", "0.04"])):
        swept = dict(entry.split(": ") for entry in row.split("|")[-2].strip().split(", "))
        assert list(swept) == rates
        chosen, _, edge = row.split("|")[-3].strip().partition(" ")
        assert swept[chosen] == max(swept.values(), key=lambda value: float(value.rstrip("%")))
        assert edge == {rates[0]: "(lowest tried)", rates[-1]: "(highest tried)"}.get(chosen, "")


def test_a_rate_that_diverges_is_listed_as_such_and_not_trained_again(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    args = ["--dataset=sample", "--epochs=1", "--max-steps=2", "--batch-size=16", "--only=4",
            "--lr-sweep=4:0.001,0.004,1e30", f"--out={tmp_path}"]
    assert ablations.main(args) == 0
    conv1 = (tmp_path / "ablations.md").read_text().splitlines()[2]
    assert conv1.split("|")[-2].strip().endswith("1e+30: diverged")
    assert conv1.split("|")[-3].strip().split()[0] in ("0.001", "0.004")
    capsys.readouterr()
    assert ablations.main(args) == 0
    assert "run folder" not in capsys.readouterr().out  # the diverged rate is an outcome, not resumed
    # Outside a sweep a diverged run is an error that says so.
    with pytest.raises(RunError, match="diverged: the training loss became"):
        train_to_end(tmp_path / "one-convolution-layer" / "lr-1e+30", [])


def test_the_recipe_seeds_give_a_spread_that_every_row_is_read_against(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    args = ["--dataset=sample", "--epochs=1", "--max-steps=2", "--batch-size=8", "--only=1,2", "--recipe-seeds=0,1",
            f"--out={tmp_path}"]
    assert ablations.main(args) == 0
    recipe = tmp_path / "alexnet-the-recipe"
    seeds = [best_top1(read_run(run)[1]) for run in (next(recipe.glob("alexnet-*")), next(recipe.glob("seed-1/*")))]
    unshuffled = best_top1(read_run(next((tmp_path / "batches-not-shuffled").iterdir()))[1])
    lines = (tmp_path / "ablations.md").read_text().splitlines()
    spread = max(seeds) - min(seeds)
    mean = sum(seeds) / len(seeds)
    assert lines[3].split("|")[3].strip() == f"{unshuffled - mean:+.1f}"  # read against the mean of the seeds
    assert lines[3].split("|")[4].strip() == ("yes" if abs(unshuffled - mean) > spread else "no")
    assert lines[-1].startswith(f"The recipe over seeds 0, 1: {seeds[0]:.1f}%, {seeds[1]:.1f}%; ")
    assert f"spread {spread:.1f} points" in lines[-1]


def test_recipe_seeds_without_the_recipe_row_are_refused(capsys):
    with pytest.raises(SystemExit):
        ablations.main(["--only=2", "--recipe-seeds=0,1"])
    assert "--recipe-seeds needs the recipe's row" in capsys.readouterr().err


@pytest.mark.parametrize("sweep", ["0.01,0.02", "0.01,0.02,0.03", "0.01,fast,0.04", "5:0.01,0.02,0.04",
                                   "11:0.01,0.02,0.04", "three:0.01,0.02,0.04"])
def test_a_sweep_too_narrow_unreadable_or_for_a_row_that_keeps_the_recipe_rate_is_refused(sweep, capsys):
    with pytest.raises(SystemExit):
        ablations.main([f"--lr-sweep={sweep}"])
    assert "--lr-sweep" in capsys.readouterr().err


@pytest.mark.parametrize("sweeps", [["0.01,0.02,0.04", "0.001,0.002,0.004"],
                                    ["8:0.01,0.02,0.04", "8,9:0.001,0.002,0.004"]])
def test_two_sweeps_for_the_same_rows_are_refused(sweeps, capsys):
    with pytest.raises(SystemExit):
        ablations.main([f"--lr-sweep={sweep}" for sweep in sweeps])
    assert "--lr-sweep" in capsys.readouterr().err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
