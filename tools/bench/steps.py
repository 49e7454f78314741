"""What the benchmarks time: torchvision's reference recipe (the peer), this trainer's step, a timer."""
import itertools
import time
from pathlib import Path

import torch
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode
from torchvision import datasets, models, transforms

NORMALIZE = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


def reference_loader(tree: Path, batch: int, side: int = 224, workers: int = 2,
                     pin: bool = False) -> torch.utils.data.DataLoader:
    """ImageFolder + PIL transforms in a DataLoader, as torchvision's references/classification/train.py."""
    train_set = datasets.ImageFolder(str(tree / "train"), transforms.Compose([
        transforms.RandomResizedCrop(side), transforms.RandomHorizontalFlip(), transforms.ToTensor(), NORMALIZE]))
    return torch.utils.data.DataLoader(train_set, batch, shuffle=True, num_workers=workers, drop_last=True,
                                       pin_memory=pin, persistent_workers=True)


def reference_step(classes: int, device: torch.device | str = "cpu"):
    """torchvision.models.alexnet in fp32 and NCHW with SGD: (the model, its step(images, labels))."""
    torch.manual_seed(0)
    model = models.alexnet(num_classes=classes).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step(images: torch.Tensor, labels: torch.Tensor) -> None:
        loss = F.cross_entropy(model(images.to(device, non_blocking=True)), labels.to(device, non_blocking=True))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return model, step


def trainer_step(run, side: int):
    """This trainer's step on a train.setup.Setup: augmentation on its device, autocast, crops of side px."""
    def step(images: torch.Tensor, labels: torch.Tensor) -> None:
        images, labels = images.to(run.device, non_blocking=True), labels.to(run.device, non_blocking=True)
        with run.autocast:
            loss = F.cross_entropy(run.network(run.augmenter.train(images, run.generator, side)).float(), labels)
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        run.optimizer.step()

    return step


def endless(loader):
    """A loader's batches, epoch after epoch (this project's loaders or a DataLoader)."""
    epochs = (loader.epoch(e) for e in itertools.count()) if hasattr(loader, "epoch") else itertools.repeat(loader)
    return itertools.chain.from_iterable(epochs)


def seconds_per_step(step, stream, steps: int, synchronize=lambda: None) -> float:
    """The mean seconds of step(*batch) over steps batches of stream, after one warm-up step
    (workers started, kernels chosen or compiled, memory allocated)."""
    step(*next(stream))
    synchronize()
    started = time.perf_counter()
    for batch in itertools.islice(stream, steps):
        step(*batch)
    synchronize()
    return (time.perf_counter() - started) / steps


def training_flops(model: torch.nn.Module, side: int) -> float:
    """Floating-point operations of one image's training step (forward and backward), at side px."""
    images = torch.randn(2, 3, side, side).contiguous(memory_format=torch.channels_last)
    with FlopCounterMode(display=False) as counter:
        model(images).sum().backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / 2
