"""Rewrites tools/python/pins.bzl from the Debian archive's current bookworm package index:
the build's CPython 3.11 and the libjpeg-turbo that //data:jpeg_crop links.

    tools/bazel run //tools/python:repin
    tools/bazel run //tools/python:repin -- --mirror http://deb.debian.org/debian

Debian keeps only the current bookworm point release in its archive, so pinned packages
disappear from it some months after each point release. This reads the index, finds the
four CPython packages and the two libjpeg-turbo ones, and writes their versions, paths and
sha256 sums, with today's snapshot.debian.org timestamp as the lasting fallback. Runs on any
python3 (3.8 or newer, standard library only): the pinned interpreter may be the one
that no longer downloads.
"""
import argparse
import datetime
import lzma
import os
import sys
import urllib.request
from pathlib import Path

# pins.bzl's dictionaries: the packages of each, all at one version.
GROUPS = {
    "PACKAGES": ("libpython3.11-minimal", "libpython3.11-stdlib", "python3.11", "python3.11-minimal"),
    "JPEG_PACKAGES": ("libjpeg62-turbo", "libjpeg62-turbo-dev"),
}
PACKAGES = tuple(name for names in GROUPS.values() for name in names)
INDEX = "dists/bookworm/main/binary-amd64/Packages.xz"

HEADER = '''"""CPython 3.11 and libjpeg-turbo for the build, as Debian 12 (bookworm) packages them.
Written by `tools/bazel run //tools/python:repin`; do not edit by hand."""

# The Debian archive snapshot (snapshot.debian.org) that serves these files for good,
# once the archive itself has moved to a newer point release.
SNAPSHOT = "{snapshot}"
'''
COMMENTS = {
    "PACKAGES": "CPython: package -> (version, path in the archive, sha256 of the .deb).",
    "JPEG_PACKAGES": "libjpeg-turbo for //data:jpeg_crop: package -> (version, path, sha256).",
}


def parse_index(text: str) -> dict:
    """{package: (version, path, sha256)} for the packages we pin, from a Packages file; each
    group's packages must share one version."""
    found = {}
    for stanza in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line[0].isspace())
        if fields.get("Package") in PACKAGES:
            found[fields["Package"]] = (fields["Version"], fields["Filename"], fields["SHA256"])
    missing = sorted(set(PACKAGES) - set(found))
    if missing:
        raise ValueError(f"the index has no {', '.join(missing)}")
    for names in GROUPS.values():
        versions = {found[name][0] for name in names}
        if len(versions) != 1:
            raise ValueError(f"{', '.join(names)} are at different versions: {sorted(versions)}")
    return found


def render(found: dict, snapshot: str) -> str:
    text = HEADER.format(snapshot=snapshot)
    for group, names in GROUPS.items():
        rows = "".join(f'    "{name}": ("{found[name][0]}", "{found[name][1]}", "{found[name][2]}"),\n'
                       for name in sorted(names))
        text += f"\n# {COMMENTS[group]}\n{group} = {{\n{rows}}}\n"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", default=os.environ.get("ALEXNET_DEBIAN_MIRROR") or "https://deb.debian.org/debian")
    parser.add_argument("--pins", help="file to rewrite (default: tools/python/pins.bzl of the workspace)")
    args = parser.parse_args()
    workspace = Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY", Path(__file__).resolve().parents[2]))
    pins = Path(args.pins) if args.pins else workspace / "tools" / "python" / "pins.bzl"
    url = f"{args.mirror.rstrip('/')}/{INDEX}"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            text = lzma.decompress(response.read()).decode()
        found = parse_index(text)
    except (OSError, lzma.LZMAError, ValueError) as error:
        print(f"repin: cannot read {url}: {error}", file=sys.stderr)
        return 1
    snapshot = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    before = pins.read_text() if pins.exists() else ""
    after = render(found, snapshot)
    old_lines = [line for line in before.splitlines() if line.startswith('    "')]
    if old_lines == [line for line in after.splitlines() if line.startswith('    "')]:
        print(f"repin: {pins} already pins CPython {found['python3.11'][0]} and libjpeg-turbo "
              f"{found['libjpeg62-turbo'][0]}, the archive's current versions")
        return 0
    pins.write_text(after)
    print(f"repin: {pins} now pins CPython {found['python3.11'][0]} and libjpeg-turbo "
          f"{found['libjpeg62-turbo'][0]} (snapshot {snapshot}); "
          "commit it, then `tools/bazel test //...`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
