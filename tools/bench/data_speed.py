"""Data-path benchmark: this project's loaders against the usual PyTorch ones, same run.

    tools/bazel run //tools/bench:data -- --data-dir ../shared/data

(a) torchvision ImageFolder + PIL transforms (RandomResizedCrop 224, flip, ToTensor,
    Normalize) in a DataLoader with 2 workers, batch 128, on DIR/imagenette2-224sq;
(b) the uint8 cache + batched augmentation making the same batches (and, beside it,
    the paper's augmentation that training uses by default);
(c) PIL decode + resize + crop to 256 and (d) jpeg_crop (libjpeg-turbo), one process,
    on DIR/imagewoof2-320-sample and on DIR/imagenet-sample-400 (genuine ILSVRC JPEGs at
    their original sizes): the cache build's rate per core. Prints images/s and the
    ratios b/a and d/c.
Then the in-place index of a synthetic train archive (100 class tars of 1,300 small
members, a tenth of ILSVRC-2012's), and the two cache formats side by side, on one core
(one decoding thread, one torch thread): bytes an image, what BatchLoader hands over (no
augmentation: the loader's ceiling) and decode + the paper's augmentation at 224.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from data import prepare, turbo
from data.augment import AugmentConfig, Augmenter
from data.batches import BatchLoader
from data.cache import open_split, read_stats
from data.decode import load_256
from data.imagenet import index_train_tar
from data.jpeg_cache import JpegImages, encode
from tools.bench.steps import endless, reference_loader, seconds_per_step
from tools.imagenet_miniature import tar_bytes

BATCH = 128


def peer_loader(root: Path, batches: int) -> float:
    return images_per_s(endless(reference_loader(root, BATCH)), batches)


def cache_loader(cache: Path, batches: int, config: AugmentConfig | None) -> float:
    """Images/s through BatchLoader and, unless config is None, the augmentation."""
    augmenter = Augmenter(read_stats(cache), config or AugmentConfig(), "cpu")
    generator = torch.Generator().manual_seed(0)
    stream = endless(BatchLoader(open_split(cache / "train"), BATCH, seed=0))
    if config is None:
        return images_per_s(stream, batches, shape=(BATCH, 256, 256, 3))
    return images_per_s(stream, batches, lambda images: augmenter.train(images, generator))


def images_per_s(stream, batches: int, make=lambda images: images, shape=(BATCH, 3, 224, 224)) -> float:
    def step(images: torch.Tensor, labels: torch.Tensor) -> None:
        assert make(images).shape == shape

    return BATCH / seconds_per_step(step, stream, batches)


def index_seconds(folder: Path, classes: int = 100, per_class: int = 1300) -> float:
    """Seconds to index a tar of class tars in place, as data/imagenet.py reads ILSVRC2012_img_train.tar."""
    archive = folder / "train-index-bench.tar"
    if not archive.is_file():
        class_tars = {}
        for wnid in (f"n{c:08d}" for c in range(classes)):
            class_tars[f"{wnid}.tar"] = tar_bytes({f"{wnid}_{i}.JPEG": bytes(100) for i in range(per_class)})
        archive.write_bytes(tar_bytes(class_tars))
    started = time.perf_counter()
    assert len(index_train_tar(archive)) == classes * per_class
    return time.perf_counter() - started


def jpeg_entry_bytes(paths: list[Path]) -> float:
    """Mean bytes of the JPEG cache entry (256x256 crop, quality 90) of each image."""
    return float(np.mean([len(encode(turbo.load_256_fastest(p, p.read_bytes()))) for p in paths]))


def format_rows(caches: dict[str, Path], batches: int) -> list[str]:
    """The two cache formats on one core: bytes an image, the loader's ceiling, decode + augment at 224."""
    JpegImages.threads = 1
    torch.set_num_threads(1)
    rows = []
    for cache_format, cache in caches.items():
        split = open_split(cache / "train")
        stored = (cache / "train" / ("images.npy" if cache_format == "uint8" else "jpegs.bin")).stat().st_size
        ceiling = cache_loader(cache, batches, None)
        augmented = cache_loader(cache, batches, AugmentConfig())
        per_image = stored / len(split)
        rows.append(f"    {cache_format:5s} cache: {per_image:8.0f} bytes an image, {per_image * 1281167 / 1e9:6.1f} GB "
                    f"for ILSVRC-2012 train; BatchLoader {ceiling:6.0f} img/s; "
                    f"+ paper augmentation {augmented:6.0f} img/s")
    return rows


def decode_rate(paths: list[Path], decode) -> float:
    blobs = [p.read_bytes() for p in paths]  # both decoders read from memory
    decode(paths[0], blobs[0])
    started = time.perf_counter()
    for path, blob in zip(paths, blobs):
        decode(path, blob)
    return len(paths) / (time.perf_counter() - started)


def main() -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="folder holding imagenette2-224sq and imagewoof2-320-sample")
    parser.add_argument("--cache", default=Path.home() / ".cache" / "alexnet" / "bench-cache-224sq")
    parser.add_argument("--batches", type=int, default=20)
    args = parser.parse_args()
    data_dir = Path(args.data_dir)
    nette, woof = data_dir / "imagenette2-224sq", data_dir / "imagewoof2-320-sample"
    for folder in (nette, woof, data_dir / "imagenet-sample-400"):
        if not folder.is_dir():
            parser.error(f"{folder} does not exist")
    if not turbo.available():
        parser.error("jpeg_crop is not built: run this through `tools/bazel run //tools/bench:data`")
    ilsvrc = data_dir / "imagenet-sample-400"
    caches = {"uint8": Path(args.cache), "jpeg": Path(f"{args.cache}-jpeg")}
    for cache_format, cache in caches.items():
        prepare.build_cache("folder", str(nette), cache, cache_format, splits=["train"], quiet=True)

    torch.set_num_threads(2)
    a = peer_loader(nette, args.batches)
    b = cache_loader(Path(args.cache), args.batches, AugmentConfig(scale_crop=0.08, pca_lighting=0.0))
    paper = cache_loader(Path(args.cache), args.batches, AugmentConfig())
    woof_paths = sorted(woof.rglob("*.JPEG"))
    c = decode_rate(woof_paths, load_256)
    d = decode_rate(woof_paths, turbo.load_256)
    diff = np.mean([np.abs(load_256(p).astype(int) - turbo.load_256(p, p.read_bytes()).astype(int)).mean()
                    for p in woof_paths[:100]])
    ilsvrc_paths = sorted(ilsvrc.glob("*.JPEG"))
    c_ilsvrc, d_ilsvrc = decode_rate(ilsvrc_paths, load_256), decode_rate(ilsvrc_paths, turbo.load_256_fastest)
    ilsvrc_jpeg = jpeg_entry_bytes(ilsvrc_paths)
    index_s = index_seconds(Path(args.cache).parent)
    formats = format_rows(caches, args.batches)
    print(f"\nmachine: {os.cpu_count()} CPU cores, torch {torch.__version__}, batch {BATCH}, {args.batches} batches")
    print(f"(a) ImageFolder + PIL transforms, DataLoader 2 workers : {a:8.0f} img/s")
    print(f"(b) uint8 cache + the same augmentation, batched       : {b:8.0f} img/s   b/a = {b / a:.2f}")
    print(f"    uint8 cache + the paper's crops, flips, PCA light. : {paper:8.0f} img/s   /a  = {paper / a:.2f}")
    print(f"(c) PIL decode + resize + crop to 256, 1 process       : {c:8.0f} img/s")
    print(f"(d) jpeg_crop (libjpeg-turbo), 1 process               : {d:8.0f} img/s   d/c = {d / c:.2f}")
    print(f"    mean |c - d| over 100 images: {diff:.2f} pixel levels")
    print(f"(c) and (d) on {len(ilsvrc_paths)} ILSVRC JPEGs at original sizes: {c_ilsvrc:.0f} and {d_ilsvrc:.0f} img/s "
          f"(d/c = {d_ilsvrc / c_ilsvrc:.2f}); their JPEG cache entries: {ilsvrc_jpeg:.0f} bytes an image")
    print(f"index of a train archive of 130,000 images in place: {index_s:.1f} s "
          f"(ILSVRC-2012's 1,281,167, extrapolated: {index_s * 1281167 / 130000:.0f} s)")
    print(f"cache formats on imagenette2-224sq train, 1 core (CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}):")
    print("\n".join(formats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
