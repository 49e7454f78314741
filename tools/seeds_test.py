"""Several seeds of one recipe: each trained and ten-patch evaluated, summed up as mean and range."""
import json
import sys

import pytest

from eval.ensemble import ensemble
from tools import seeds


def test_seeds_train_evaluate_and_sum_up_and_a_rerun_redoes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    args = ["--seeds=0,1", f"--out={tmp_path}", "--", "--dataset=sample", "--epochs=2", "--max-steps=1",
            "--batch-size=8"]
    assert seeds.main(args) == 0
    runs = [next((tmp_path / f"seed-{seed}").iterdir()) for seed in (0, 1)]
    assert [json.loads((run / "config.json").read_text())["seed"] for run in runs] == [0, 1]
    reports = [json.loads((run / "tenpatch-best" / "tenpatch.json").read_text()) for run in runs]
    lines = (tmp_path / "seeds.md").read_text().splitlines()
    assert len(lines) == 7 and lines[2].startswith("| 0 |") and lines[3].startswith("| 1 |")
    tenpatch = [100 * (1 - r["methods"]["tenpatch_probabilities"]["top1_error"]) for r in reports]
    assert f"**{sum(tenpatch) / 2:.1f}%**" == lines[4].split("|")[3].strip()
    assert f"{min(tenpatch):.1f}-{max(tenpatch):.1f}%" == lines[5].split("|")[3].strip()
    averaged = ensemble([run / "tenpatch-best" for run in runs])["ensemble"]["tenpatch_probabilities"]["top1_error"]
    assert lines[6].startswith("| ensemble of the 2 |")
    assert lines[6].split("|")[3].strip() == f"{100 * (1 - averaged):.1f}%"
    assert (tmp_path / "seeds.png").read_bytes()[:4] == b"\x89PNG"
    evaluated_at = [(run / "tenpatch-best" / "tenpatch.json").stat().st_mtime for run in runs]
    capsys.readouterr()
    assert seeds.main(args) == 0
    assert [(run / "tenpatch-best" / "tenpatch.json").stat().st_mtime for run in runs] == evaluated_at
    # A report from before the table's last method was added is redone; the other is kept.
    old = runs[0] / "tenpatch-best" / "tenpatch.json"
    report = json.loads(old.read_text())
    del report["methods"]["tenpatch_and_whole"]
    old.write_text(json.dumps(report))
    written_at = old.stat().st_mtime
    assert seeds.main(args) == 0
    assert old.stat().st_mtime > written_at and "tenpatch_and_whole" in json.loads(old.read_text())["methods"]
    assert (runs[1] / "tenpatch-best" / "tenpatch.json").stat().st_mtime == evaluated_at[1]
    # So is one from before evaluations kept their probabilities (the ensemble row needs them).
    (runs[1] / "tenpatch-best" / "probabilities.pt").unlink()
    assert seeds.main(args) == 0
    assert (runs[1] / "tenpatch-best" / "probabilities.pt").exists()
    assert "1 process(es)" not in capsys.readouterr().out  # what the trainer prints as it starts
    assert [sorted(p.name for p in (tmp_path / f"seed-{seed}").iterdir()) for seed in (0, 1)] == [[runs[0].name],
                                                                                                 [runs[1].name]]
    # Runs of other settings in the folder are neither reported nor touched.
    capsys.readouterr()
    assert seeds.main([*args, "--recipe=long"]) == 2
    assert "recipe='paper', not 'long'" in capsys.readouterr().err
    assert [sorted(p.name for p in (tmp_path / f"seed-{seed}").iterdir()) for seed in (0, 1)] == [[runs[0].name],
                                                                                                 [runs[1].name]]


@pytest.mark.parametrize("args, named", [(["--seeds=0"], "--seeds"), (["--seeds=1,1"], "--seeds"),
                                         (["--", "--seed=3"], "--seed"), (["--", "--resume=x"], "--resume")])
def test_bad_seeds_or_flags_the_tool_owns_are_refused(args, named, capsys):
    with pytest.raises(SystemExit):
        seeds.main(args)
    assert named in capsys.readouterr().err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
