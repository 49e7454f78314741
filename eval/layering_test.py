"""Evaluation stands on the layers below it: no module of eval/ imports the trainer's entry module."""
import ast
import sys
from pathlib import Path

import pytest

TRAINER_ONLY = {"train.alexnet", "train.config", "train.monitor", "train.resolution"}


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def test_eval_modules_import_no_trainer_module():
    sources = [p for p in Path(__file__).parent.glob("*.py") if not p.name.endswith("_test.py")]
    assert {p.name for p in sources} >= {"tenpatch.py", "predict.py", "loading.py"}
    for source in sources:
        assert not imported_modules(source) & TRAINER_ONLY, source.name


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
