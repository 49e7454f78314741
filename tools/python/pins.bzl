"""CPython 3.11 for the build, as Debian 12 (bookworm) packages it. Written by
`tools/bazel run //tools/python:repin`; do not edit by hand."""

# The Debian archive snapshot (snapshot.debian.org) that serves these files for good,
# once the archive itself has moved to a newer point release.
SNAPSHOT = "20261128T172800Z"

# Package -> (version, path in the archive, sha256 of the .deb).
PACKAGES = {
    "libpython3.11-minimal": ("3.11.2-6+deb12u8", "pool/main/p/python3.11/libpython3.11-minimal_3.11.2-6+deb12u8_amd64.deb", "f3beaa03994ffedacf73c43a0843d53b062d347115d8af65bee2034552a4e6f9"),
    "libpython3.11-stdlib": ("3.11.2-6+deb12u8", "pool/main/p/python3.11/libpython3.11-stdlib_3.11.2-6+deb12u8_amd64.deb", "890b3540dad8a1ccc0deeca025db735bcc82629a76adacbe3b50fcc06ed528ca"),
    "python3.11": ("3.11.2-6+deb12u8", "pool/main/p/python3.11/python3.11_3.11.2-6+deb12u8_amd64.deb", "cd7b10c24281416a6acb22cd23ed7391c7dddd4a3d4d4a63d37faa786639b5de"),
    "python3.11-minimal": ("3.11.2-6+deb12u8", "pool/main/p/python3.11/python3.11-minimal_3.11.2-6+deb12u8_amd64.deb", "4aba533f7cc5e7b93b7ff24482840e96813f5bcde9cce028395b65a0d799ccee"),
}
