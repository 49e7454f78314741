"""The ablation ladder runs to a table, and a rerun skips the finished rows."""
import sys

import pytest

from tools import ablations


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


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
