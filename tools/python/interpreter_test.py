"""The tests run on the build's pinned CPython, not on the host's Python."""
import os
import sys
import sysconfig
from pathlib import Path

import pytest

PINS = Path(__file__).with_name("pins.bzl")

# Outside Bazel (python -m pytest …) the interpreter is whichever ran pytest.
pytestmark = pytest.mark.skipif("TEST_SRCDIR" not in os.environ, reason="runs under Bazel only")


def test_interpreter_is_the_pinned_cpython_3_11():
    version = next(line for line in PINS.read_text().splitlines() if '"python3.11":' in line).split('"')[3]
    assert sys.version_info[:2] == (3, 11)
    # Debian's build string: 3.11.2-6+deb12u8 is CPython 3.11.2.
    assert sys.version.split()[0] == version.split("-")[0]


def test_interpreter_lives_in_the_builds_external_repository():
    executable = Path(sys.executable).resolve()
    assert "python3_11" in executable.parts[-4], executable
    assert executable.parts[-5] == "external", executable
    assert Path(sys.prefix).resolve() == executable.parent.parent
    # Nothing from the host's site-packages.
    assert not any(part.startswith(("/usr/lib/python3", "/usr/local/lib/python3")) for part in sys.path), sys.path
    assert Path(sysconfig.get_paths()["stdlib"]).resolve().is_relative_to(executable.parent.parent)


def test_the_modules_the_project_needs_load():
    import ctypes, lzma, ssl, sqlite3  # noqa: E401,F401: ctypes for the C++ kernels, ssl for pip


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
