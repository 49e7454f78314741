"""One py_test per *_test.py file, each run by pytest (its `__main__` block)."""

load("@pypi//:requirements.bzl", "requirement")
load("@rules_python//python:defs.bzl", "py_test")

def py_tests(deps, size = "medium", data = {}):
    """A py_test named after each *_test.py in the package.

    Args:
      deps: what the tests import.
      size: Bazel test size (sets the timeout).
      data: extra runfiles per test file, {"name_test.py": [labels]}.
    """
    for src in native.glob(["*_test.py"]):
        py_test(
            name = src.removesuffix(".py"),
            size = size,
            srcs = [src],
            main = src,
            data = data.get(src, []),
            deps = deps + [requirement("pytest")],
        )
