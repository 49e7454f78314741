"""The GitHub workflow a fork gets runs exactly the README's test command, as .ci/run does,
so the three cannot drift apart."""
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
if not (ROOT / "README.md").is_file():  # under Bazel: the runfiles tree
    ROOT = Path(__file__).parents[1]


def readme_test_command() -> str:
    """The `… test …` line of README's "The two commands", without its comment."""
    block = (ROOT / "README.md").read_text().split("## The two commands", 1)[1].split("```sh", 1)[1].split("```")[0]
    (line,) = [line for line in block.splitlines() if " test " in line]
    return line.split("#")[0].strip()


def workflow() -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())


def test_the_readme_names_one_test_command():
    assert readme_test_command() == "tools/bazel test //..."


def test_every_job_runs_the_readme_command_on_push_and_pull_request():
    flow = workflow()
    assert {"push", "pull_request"} <= set(flow[True] if True in flow else flow["on"])  # YAML 1.1 reads `on` as True
    for name, job in flow["jobs"].items():
        tests = [step["run"] for step in job["steps"] if "run" in step and " test " in step["run"]]
        assert len(tests) == 1, name
        assert re.fullmatch(r"(sudo env( \S+=\S+)+ )?" + re.escape(readme_test_command()), tests[0].strip()), tests[0]


def test_one_job_uses_bazelisk_and_one_the_debian_root():
    runs = [step["run"].strip() for job in workflow()["jobs"].values() for step in job["steps"] if "run" in step]
    assert readme_test_command() in runs  # bazelisk's `bazel` on PATH
    assert any(run.startswith("sudo env PATH=/usr/sbin:/usr/bin:/sbin:/bin") for run in runs)  # no bazel: the root


def test_bazel_caches_are_keyed_on_what_changes_the_fetches():
    for job in workflow()["jobs"].values():
        (cache,) = [step for step in job["steps"] if step.get("uses", "").startswith("actions/cache@")]
        for pinned in ("MODULE.bazel", "requirements_lock.txt", "tools/python/pins.bzl"):
            assert pinned in cache["with"]["key"]


def test_ci_run_calls_the_same_command():
    assert readme_test_command() in (ROOT / ".ci" / "run").read_text()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
