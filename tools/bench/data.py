"""Data-path benchmark: this project's loaders against the usual PyTorch ones, same run.

    tools/bazel run //tools/bench:data -- --data-dir ../shared/data

(a) torchvision ImageFolder + PIL transforms (RandomResizedCrop 224, flip, ToTensor,
    Normalize) in a DataLoader with 2 workers, batch 128, on DIR/imagenette2-224sq;
(b) the uint8 cache + batched augmentation making the same batches (and, beside it,
    the paper's augmentation that training uses by default);
(c) PIL decode + resize + crop to 256 and (d) jpeg_crop (libjpeg-turbo), one process,
    on DIR/imagewoof2-320-sample. Prints images/s and the ratios b/a and d/c.
"""
import argparse
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets, transforms

from data import preprocess, turbo
from data.augment import AugmentConfig, Augmenter
from data.batches import BatchLoader
from data.cache import open_split, read_stats
from data.decode import load_256

BATCH = 128


def peer_loader(root: Path, batches: int) -> float:
    transform = transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    dataset = datasets.ImageFolder(str(root / "train"), transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=2,
                                         persistent_workers=True)
    return time_batches(iter(loader), batches, lambda batch: batch[0])


def cache_loader(cache: Path, batches: int, config: AugmentConfig) -> float:
    split = open_split(cache / "train")
    augmenter = Augmenter(read_stats(cache), config, "cpu")
    generator = torch.Generator().manual_seed(0)
    loader = BatchLoader(split, BATCH, seed=0)
    stream = itertools.chain.from_iterable(loader.epoch(e) for e in itertools.count())
    return time_batches(stream, batches, lambda batch: augmenter.train(batch[0], generator))


def time_batches(stream, batches: int, make) -> float:
    make(next(stream))  # warm-up: workers started, caches filled
    started = time.perf_counter()
    for batch in itertools.islice(stream, batches):
        assert make(batch).shape == (BATCH, 3, 224, 224)
    return batches * BATCH / (time.perf_counter() - started)


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
    for folder in (nette, woof):
        if not folder.is_dir():
            parser.error(f"{folder} does not exist")
    if not turbo.available():
        parser.error("jpeg_crop is not built: run this through `tools/bazel run //tools/bench:data`")
    preprocess.main(["--dataset=folder", f"--data-dir={nette}", f"--out={args.cache}", "--splits=train"])

    torch.set_num_threads(2)
    a = peer_loader(nette, args.batches)
    b = cache_loader(Path(args.cache), args.batches, AugmentConfig(scale_crop=0.08, pca_lighting=0.0))
    paper = cache_loader(Path(args.cache), args.batches, AugmentConfig())
    woof_paths = sorted(woof.rglob("*.JPEG"))
    c = decode_rate(woof_paths, load_256)
    d = decode_rate(woof_paths, turbo.load_256)
    diff = np.mean([np.abs(load_256(p).astype(int) - turbo.load_256(p, p.read_bytes()).astype(int)).mean()
                    for p in woof_paths[:100]])
    print(f"\nmachine: {os.cpu_count()} CPU cores, torch {torch.__version__}, batch {BATCH}, {args.batches} batches")
    print(f"(a) ImageFolder + PIL transforms, DataLoader 2 workers : {a:8.0f} img/s")
    print(f"(b) uint8 cache + the same augmentation, batched       : {b:8.0f} img/s   b/a = {b / a:.2f}")
    print(f"    uint8 cache + the paper's crops, flips, PCA light. : {paper:8.0f} img/s   /a  = {paper / a:.2f}")
    print(f"(c) PIL decode + resize + crop to 256, 1 process       : {c:8.0f} img/s")
    print(f"(d) jpeg_crop (libjpeg-turbo), 1 process               : {d:8.0f} img/s   d/c = {d / c:.2f}")
    print(f"    mean |c - d| over 100 images: {diff:.2f} pixel levels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
