"""The build's own CPython 3.11 and libjpeg-turbo: Debian bookworm's packages, pinned by
sha256 (pins.bzl).

Debian's interpreter runs from any folder: it finds its standard library beside itself.
Every py_binary, py_test and the pip hub use it, so the host needs no Python 3.11
(rules_python 0.22.1's pip tooling fails on 3.12 and later). libjpeg-turbo's headers and
shared library become @libjpeg_turbo//:libjpeg, so //data:jpeg_crop needs no JPEG
package on the host. Linux x86_64 only: elsewhere the toolchain does not match, and the
pip hub cannot run this interpreter.
"""

load(":pins.bzl", "JPEG_PACKAGES", "PACKAGES", "SNAPSHOT")

# Every place that serves the same bytes, tried in order; ALEXNET_DEBIAN_MIRROR goes first.
_MIRRORS = [
    "https://deb.debian.org/debian",
    "http://deb.debian.org/debian",
    "https://ftp.debian.org/debian",
    "https://snapshot.debian.org/archive/debian/" + SNAPSHOT,
]

_BUILD = """\
load("@rules_python//python:defs.bzl", "py_runtime_pair")

package(default_visibility = ["//visibility:public"])

exports_files(["python3"])

py_runtime(
    name = "runtime",
    files = glob(["usr/lib/python3.11/**"], exclude = ["**/__pycache__/**", "**/* *"]),
    interpreter = "usr/bin/python3.11",
    python_version = "PY3",
)

py_runtime_pair(
    name = "runtime_pair",
    py3_runtime = ":runtime",
)

toolchain(
    name = "toolchain",
    exec_compatible_with = ["@platforms//os:linux", "@platforms//cpu:x86_64"],
    target_compatible_with = ["@platforms//os:linux", "@platforms//cpu:x86_64"],
    toolchain = ":runtime_pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)
"""

_BROKEN = """#!/bin/sh
echo "the pinned CPython 3.11 could not be downloaded: %s" >&2
exit 1
"""

def _urls(rctx, path):
    mirror = rctx.os.environ.get("ALEXNET_DEBIAN_MIRROR", "").rstrip("/")
    return ([mirror + "/" + path] if mirror else []) + [base + "/" + path for base in _MIRRORS]

def _unpack_debs(rctx, packages):
    """Downloads and unpacks each pinned .deb into the repository; returns None, or why one failed."""
    for package, (version, path, sha256) in packages.items():
        staging = "debs/" + package
        result = rctx.download_and_extract(
            url = _urls(rctx, path),
            sha256 = sha256,
            type = "deb",
            output = staging,
            allow_fail = True,
        )
        if not result.success:
            why = ("%s %s (sha256 %s) is in none of %s. The Debian archive keeps only the current bookworm " +
                   "point release: run `tools/bazel run //tools/python:repin`, or set ALEXNET_DEBIAN_MIRROR " +
                   "to a mirror that still has it") % (package, version, sha256, ", ".join(_urls(rctx, path)))
            print("WARNING: " + why)  # buildifier: disable=print
            return why.replace('"', "'").replace("`", "'")
        data = [entry for entry in rctx.path(staging).readdir() if entry.basename.startswith("data.tar")]
        if len(data) != 1:
            fail("%s: expected one data.tar.* inside the .deb, found %s" % (path, data))
        rctx.extract(data[0], output = ".")
        rctx.delete(staging)
    return None

def _debian_python_impl(rctx):
    why = _unpack_debs(rctx, PACKAGES)
    if why:
        # The repository still builds, so `//tools/python:repin` can run; the interpreter says why it cannot.
        broken = _BROKEN % why
        rctx.file("python3", broken, executable = True)
        rctx.file("usr/bin/python3.11", broken, executable = True)
        rctx.file("BUILD.bazel", _BUILD)
        return

    # An absolute link into the host's /etc (Debian's site customisation): not ours to read.
    rctx.delete("usr/lib/python3.11/sitecustomize.py")
    rctx.delete("etc")
    rctx.delete("usr/share")
    rctx.symlink("usr/bin/python3.11", "python3")
    rctx.file("BUILD.bazel", _BUILD)

debian_python_repo = repository_rule(
    implementation = _debian_python_impl,
    environ = ["ALEXNET_DEBIAN_MIRROR"],
)

_LIBJPEG_BUILD = """\
# libjpeg-turbo from Debian bookworm (tools/python/pins.bzl): the headers and the shared
# library (Debian's libjpeg.a is built for executables, not for linking into a .so).
cc_library(
    name = "libjpeg",
    srcs = ["usr/lib/x86_64-linux-gnu/libjpeg.so.62"],
    hdrs = glob(["usr/include/*.h"]) + ["usr/include/x86_64-linux-gnu/jconfig.h"],
    includes = ["usr/include", "usr/include/x86_64-linux-gnu"],
    visibility = ["//visibility:public"],
)
"""

def _debian_libjpeg_impl(rctx):
    why = _unpack_debs(rctx, JPEG_PACKAGES)
    if why:
        # Compiling //data:jpeg_crop then stops on this one line, not on a missing header.
        rctx.file("usr/include/jpeglib.h", '#error "the pinned libjpeg-turbo could not be downloaded: %s"\n' % why)
        rctx.file("usr/include/x86_64-linux-gnu/jconfig.h", "")
        rctx.file("usr/lib/x86_64-linux-gnu/libjpeg.so.62", "")
    rctx.delete("usr/share")
    rctx.file("BUILD.bazel", _LIBJPEG_BUILD)

debian_libjpeg_repo = repository_rule(
    implementation = _debian_libjpeg_impl,
    environ = ["ALEXNET_DEBIAN_MIRROR"],
)

def _debian_python_extension(_mctx):
    debian_python_repo(name = "python3_11")
    debian_libjpeg_repo(name = "libjpeg_turbo")

debian_python = module_extension(implementation = _debian_python_extension)
