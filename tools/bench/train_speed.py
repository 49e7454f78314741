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
import itertools
import os
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode
from torchvision import datasets, models, transforms

from data.prepare import prepare_cache
from model import lrn_kernel
from train import setup as training
from train.alexnet import train_one_epoch
from train.config import parse_config
from train.evaluate import evaluate_center

BATCH = 128


def peer(root: Path, steps: int, epochs: int) -> tuple[float, float | None]:
    normalize = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    train_set = datasets.ImageFolder(str(root / "train"), transforms.Compose([
        transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize]))
    loader = torch.utils.data.DataLoader(train_set, BATCH, shuffle=True, num_workers=2, drop_last=True,
                                         persistent_workers=True)
    torch.manual_seed(0)
    model = models.alexnet(num_classes=len(train_set.classes))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step(images: torch.Tensor, labels: torch.Tensor) -> None:
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    rate = timed(itertools.chain.from_iterable(itertools.repeat(loader)), step, steps)
    if not epochs:
        return rate, None
    for _ in range(epochs):
        for images, labels in loader:
            step(images, labels)
    val_set = datasets.ImageFolder(str(root / "val"), transforms.Compose([
        transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), normalize]))
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in torch.utils.data.DataLoader(val_set, BATCH, num_workers=2):
            correct += int((model(images).argmax(1) == labels).sum())
    return rate, correct / len(val_set)


def training_flops(model: torch.nn.Module, side: int) -> float:
    """Floating-point operations of one image's training step (forward and backward), at side px."""
    images = torch.randn(2, 3, side, side).contiguous(memory_format=torch.channels_last)
    with FlopCounterMode(display=False) as counter:
        model(images).sum().backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / 2


def ours(root: Path, steps: int, epochs: int, model: str, side: int = 224) -> tuple[float, float | None, str, float]:
    config = parse_config(["--dataset=folder", f"--data-dir={root}", "--quiet", f"--epochs={max(epochs, 1)}",
                           f"--model={model}", f"--res-schedule=1:{side}"], "")
    trainer = training.Setup(config, prepare_cache(config.dataset, config.data_dir, quiet=True))
    flops = training_flops(trainer.model, side)

    def step(images: torch.Tensor, labels: torch.Tensor) -> None:
        with trainer.autocast:
            crops = trainer.augmenter.train(images, trainer.generator, side)
            loss = F.cross_entropy(trainer.network(crops).float(), labels)
        trainer.optimizer.zero_grad()
        loss.backward()
        trainer.optimizer.step()

    stream = itertools.chain.from_iterable(trainer.train_loader.epoch(e) for e in itertools.count())
    rate = timed(stream, step, steps)
    if not epochs:
        return rate, None, trainer.precision, flops
    for epoch in range(epochs):
        train_one_epoch(trainer.network, trainer.optimizer, trainer.scaler, trainer.train_loader, trainer.augmenter,
                        trainer.generator, trainer.learning_rate, trainer.autocast, trainer.device, epoch, side,
                        show_progress=False)
    val = evaluate_center(trainer.network, trainer.val_loader, trainer.augmenter, trainer.device, trainer.autocast,
                          len(trainer.classes))
    return rate, val["top1"], trainer.precision, flops


def timed(stream, step, steps: int) -> float:
    step(*next(stream))  # warm-up: workers started, kernels chosen
    started = time.perf_counter()
    for images, labels in itertools.islice(stream, steps):
        step(images, labels)
    return steps * BATCH / (time.perf_counter() - started)


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
    a_flops = training_flops(models.alexnet(num_classes=10), 224)
    b, b_top1, precision, b_flops = ours(root, args.steps, args.epochs, "alexnet")
    rows = {name: ours(root, args.steps, 0, model, side) for name, model, side in (
        ("nolrn", "alexnet-nolrn", 224), ("160", "alexnet", 160), ("128", "alexnet", 128),
        ("peer", "torchvision", 224))}
    with lrn_kernel.disabled():
        rows["eager"] = ours(root, args.steps, 0, "alexnet")

    def line(label: str, rate: float, precision: str, flops: float, ratio: str = "") -> None:
        print(f"{label:<58} {precision:>5} {rate:7.1f} img/s {rate * flops / 1e9:6.1f} GFLOP/s  {ratio}")

    print(f"\nmachine: {os.cpu_count()} CPU cores, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"torch {torch.__version__}, batch {BATCH}, {args.steps} timed steps")
    line("(a) torchvision reference: alexnet, NCHW, ImageFolder+PIL", a, "fp32", a_flops)
    line("(b) this trainer at its defaults (the paper's AlexNet, LRN)", b, precision, b_flops, f"b/a = {b / a:.2f}")
    eager = rows["eager"]
    line("    the same, LRN in PyTorch operations (no fused kernel)", eager[0], eager[2], eager[3],
         f"/b = {eager[0] / b:.2f}")
    nolrn = rows["nolrn"]
    line("    the paper's network without LRN (--model=alexnet-nolrn)", nolrn[0], nolrn[2], nolrn[3])
    for side in ("160", "128"):
        rate, _, row_precision, flops = rows[side]
        line(f"    the paper's network at {side} px (--res-schedule=1:{side})", rate, row_precision, flops,
             f"/b = {rate / b:.2f}")
    peer_row = rows["peer"]
    line("    this trainer with the peer's network (--model=torchvision)", peer_row[0], peer_row[2], peer_row[3],
         f"/a = {peer_row[0] / a:.2f}")
    print(f"paper/nolrn = {b / nolrn[0]:.2f}")
    if args.epochs:
        print(f"after {args.epochs} epoch(s), validation top-1 (centre crop): (a) {100 * a_top1:.1f}%  "
              f"(b) {100 * b_top1:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
