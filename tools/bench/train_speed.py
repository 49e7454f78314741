"""Training-speed benchmark: torchvision's reference recipe against this trainer, same run.

    tools/bazel run //tools/bench:train -- --data-dir ../shared/data
    tools/bazel run //tools/bench:train -- --data-dir ../shared/data --epochs 1   # + accuracy after 1 epoch

(a) the peer: torchvision.models.alexnet in fp32 and NCHW, fed by ImageFolder + PIL
    transforms in a DataLoader (2 workers), SGD as in references/classification/train.py;
(b) this trainer at its defaults: the uint8 cache, augmentation on the device, the
    paper's AlexNet in channels_last with bf16 autocast where the CPU supports it; and,
    beside it, where the time goes: the paper's network with its LRN in PyTorch
    operations instead of the fused kernel, and without LRN (paper/nolrn),
    the paper's network trained on 160 and 128 px crops (--res-schedule), and this
    trainer driving the peer's own (lighter) network.
All at batch 128 on DIR/imagenette2-224sq; prints the CPU capability torch reports,
images/s, the precision and the achieved training GFLOP/s of each row (forward and
backward counted once with torch.utils.flop_counter), and the ratio b/a. With
--epochs N, (a) and (b) also train N full epochs and report validation top-1 (centre crop).
"""
import argparse
import os
import sys
from pathlib import Path

import torch
from torchvision import datasets, models, transforms

from data.prepare import prepare_cache
from model import lrn_kernel
from tools.bench.steps import (NORMALIZE, endless, reference_loader, reference_step, seconds_per_step, trainer_step,
                               training_flops)
from train import setup as training
from train.alexnet import train_one_epoch
from train.config import parse_config
from train.evaluate import evaluate_center

BATCH = 128


def peer(root: Path, steps: int, epochs: int) -> tuple[float, float | None]:
    loader = reference_loader(root, BATCH)
    model, step = reference_step(len(loader.dataset.classes))
    rate = BATCH / seconds_per_step(step, endless(loader), steps)
    if not epochs:
        return rate, None
    for _ in range(epochs):
        for images, labels in loader:
            step(images, labels)
    val_set = datasets.ImageFolder(str(root / "val"), transforms.Compose([
        transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), NORMALIZE]))
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in torch.utils.data.DataLoader(val_set, BATCH, num_workers=2):
            correct += int((model(images).argmax(1) == labels).sum())
    return rate, correct / len(val_set)


def ours(root: Path, steps: int, epochs: int, model: str, side: int = 224) -> tuple[float, float | None, str, float]:
    config = parse_config(["--dataset=folder", f"--data-dir={root}", "--quiet", f"--epochs={max(epochs, 1)}",
                           f"--model={model}", f"--res-schedule=1:{side}"], "")
    trainer = training.Setup(config, prepare_cache(config.dataset, config.data_dir, quiet=True))
    flops = training_flops(trainer.model, side)
    rate = BATCH / seconds_per_step(trainer_step(trainer, side), endless(trainer.train_loader), steps)
    if not epochs:
        return rate, None, trainer.precision, flops
    for epoch in range(epochs):
        train_one_epoch(trainer.network, trainer.optimizer, trainer.scaler, trainer.train_loader, trainer.augmenter,
                        trainer.generator, trainer.learning_rate, trainer.autocast, trainer.device, epoch, side,
                        show_progress=False)
    val = evaluate_center(trainer.network, trainer.val_loader, trainer.augmenter, trainer.device, trainer.autocast,
                          len(trainer.classes))
    return rate, val["top1"], trainer.precision, flops


def main() -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="folder holding imagenette2-224sq")
    parser.add_argument("--steps", type=int, default=8, help="timed steps of batch 128 each")
    parser.add_argument("--epochs", type=int, default=0, help="also train this many epochs and compare accuracy")
    args = parser.parse_args()
    root = Path(args.data_dir) / "imagenette2-224sq"
    if not (root / "train").is_dir():
        parser.error(f"{root}/train does not exist")
    a, a_top1 = peer(root, args.steps, args.epochs)
    b, b_top1, precision, b_flops = ours(root, args.steps, args.epochs, "alexnet")
    with lrn_kernel.disabled():
        eager = ours(root, args.steps, 0, "alexnet")
    nolrn = ours(root, args.steps, 0, "alexnet-nolrn")
    rows = [  # (what, (images/s, top-1, precision, FLOPs an image), the ratio shown and its denominator)
        ("(a) torchvision reference: alexnet, NCHW, ImageFolder+PIL",
         (a, a_top1, "fp32", training_flops(models.alexnet(num_classes=10), 224)), None),
        ("(b) this trainer at its defaults (the paper's AlexNet, LRN)", (b, b_top1, precision, b_flops), ("b/a", a)),
        ("    the same, LRN in PyTorch operations (no fused kernel)", eager, ("/b", b)),
        ("    the paper's network without LRN (--model=alexnet-nolrn)", nolrn, None),
        *((f"    the paper's network at {side} px (--res-schedule=1:{side})",
           ours(root, args.steps, 0, "alexnet", side), ("/b", b)) for side in (160, 128)),
        ("    this trainer with the peer's network (--model=torchvision)", ours(root, args.steps, 0, "torchvision"),
         ("/a", a)),
    ]
    print(f"\nmachine: {os.cpu_count()} CPU cores, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"torch {torch.__version__}, batch {BATCH}, {args.steps} timed steps")
    for label, (rate, _, row_precision, flops), ratio in rows:
        shown = f"{ratio[0]} = {rate / ratio[1]:.2f}" if ratio else ""
        print(f"{label:<58} {row_precision:>5} {rate:7.1f} img/s {rate * flops / 1e9:6.1f} GFLOP/s  {shown}")
    print(f"paper/nolrn = {b / nolrn[0]:.2f}")
    if args.epochs:
        print(f"after {args.epochs} epoch(s), validation top-1 (centre crop): (a) {100 * a_top1:.1f}%  "
              f"(b) {100 * b_top1:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
