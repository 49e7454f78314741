"""The re-pin tool reads Debian's package index and writes pins.bzl in the form the build loads."""
import sys
from pathlib import Path

import pytest

from tools.python import repin

PINS = Path(__file__).with_name("pins.bzl")


def stanza(package: str, version: str, sha256: str) -> str:
    """One entry of dists/bookworm/main/binary-amd64/Packages, as the archive writes it."""
    return (f"Package: {package}\nSource: python3.11\nVersion: {version}\nInstalled-Size: 3870\n"
            f"Depends: libc6 (>= 2.14),\n libssl3 (>= 3.0.0)\nFilename: pool/main/p/python3.11/"
            f"{package}_{version}_amd64.deb\nSize: 817740\nMD5sum: 0123\nSHA256: {sha256}\n")


def index_of(python_version: str = "3.11.2-6+deb12u9", jpeg_version: str = "1:2.1.5-3") -> str:
    """An index holding every pinned package (each sha256 its position's digit) and one we do not pin."""
    versions = {name: python_version if name in repin.GROUPS["PACKAGES"] else jpeg_version for name in repin.PACKAGES}
    entries = [stanza(name, versions[name], str(i) * 64) for i, name in enumerate(repin.PACKAGES)]
    return "\n".join(entries + [stanza("python3.11-venv", python_version, "f" * 64)])


def pinned() -> tuple[dict, str]:
    """The packages as pins.bzl holds them, read with the build's own Starlark-as-Python reading."""
    scope = {}
    exec(PINS.read_text(), scope)  # pins.bzl is plain assignments, valid Python too
    return {**scope["PACKAGES"], **scope["JPEG_PACKAGES"]}, scope["SNAPSHOT"]


def test_committed_pins_are_what_the_tool_writes():
    packages, snapshot = pinned()
    assert set(packages) == set(repin.PACKAGES)
    assert repin.render(packages, snapshot) == PINS.read_text()


def test_index_gives_each_packages_version_path_and_sha256():
    found = repin.parse_index(index_of())
    assert found["python3.11"] == ("3.11.2-6+deb12u9", "pool/main/p/python3.11/python3.11_3.11.2-6+deb12u9_amd64.deb",
                                   str(repin.PACKAGES.index("python3.11")) * 64)
    assert found["libjpeg62-turbo-dev"][0] == "1:2.1.5-3"
    assert set(found) == set(repin.PACKAGES)


def test_missing_or_mixed_packages_are_refused_by_name():
    without = "\n\n".join(entry for entry in index_of().split("\n\n") if "Package: libjpeg62-turbo-dev\n" not in entry)
    with pytest.raises(ValueError, match="no libjpeg62-turbo-dev"):
        repin.parse_index(without)
    mixed = index_of().replace("Package: python3.11-minimal\nSource: python3.11\nVersion: 3.11.2-6+deb12u9",
                               "Package: python3.11-minimal\nSource: python3.11\nVersion: 3.11.2-6+deb12u10")
    with pytest.raises(ValueError, match="python3.11-minimal are at different versions"):
        repin.parse_index(mixed)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
