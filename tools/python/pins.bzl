"""CPython 3.11 and libjpeg-turbo for the build, as Debian 12 (bookworm) packages them.
Written by `tools/bazel run //tools/python:repin`; do not edit by hand."""

# The Debian archive snapshot (snapshot.debian.org) that serves these files for good,
# once the archive itself has moved to a newer point release.
SNAPSHOT = "20261128T172800Z"

# CPython: package -> (version, path in the archive, sha256 of the .deb).
PACKAGES = {
    "libpython3.11-minimal": ("3.11.2-6+deb12u8", "pool/main/p/python3.11/libpython3.11-minimal_3.11.2-6+deb12u8_amd64.deb", "f3beaa03994ffedacf73c43a0843d53b062d347115d8af65bee2034552a4e6f9"),
    "libpython3.11-stdlib": ("3.11.2-6+deb12u8", "pool/main/p/python3.11/libpython3.11-stdlib_3.11.2-6+deb12u8_amd64.deb", "890b3540dad8a1ccc0deeca025db735bcc82629a76adacbe3b50fcc06ed528ca"),
    "python3.11": ("3.11.2-6+deb12u8", "pool/main/p/python3.11/python3.11_3.11.2-6+deb12u8_amd64.deb", "cd7b10c24281416a6acb22cd23ed7391c7dddd4a3d4d4a63d37faa786639b5de"),
    "python3.11-minimal": ("3.11.2-6+deb12u8", "pool/main/p/python3.11/python3.11-minimal_3.11.2-6+deb12u8_amd64.deb", "4aba533f7cc5e7b93b7ff24482840e96813f5bcde9cce028395b65a0d799ccee"),
}

# libjpeg-turbo for //data:jpeg_crop: package -> (version, path, sha256).
JPEG_PACKAGES = {
    "libjpeg62-turbo": ("1:2.1.5-2", "pool/main/libj/libjpeg-turbo/libjpeg62-turbo_2.1.5-2_amd64.deb", "95ec30140789a342add8f8371ed018924de51b539056522b66f207b25cba9cad"),
    "libjpeg62-turbo-dev": ("1:2.1.5-2", "pool/main/libj/libjpeg-turbo/libjpeg62-turbo-dev_2.1.5-2_amd64.deb", "10485411f751c24472c43b28fe24ab6389fedb027d496bbc2c831496f750ab01"),
}
