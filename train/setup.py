"""Everything a training run holds, built from its config and cache, and its checkpoint state.

The model in channels_last (faster convolutions on CPUs and GPUs alike), SGD with momentum
and weight decay as in the paper, the learning rate (train/schedule.py), the loaders over
the cache, the augmentation on the training device, autocast and its grad scaler, DDP
under torchrun, and the weight average when asked for.
"""
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

from data.augment import AugmentConfig, Augmenter
from data.batches import BatchLoader
from data.cache import CacheError, open_split, read_stats
from data.resident import ResidentLoader, resident_on
from data.folders import DataError
from model.registry import create_model
from train import checkpoint, resolution
from train.averaging import WeightAverage
from train.checkpoint import CheckpointError
from train.config import TrainConfig
from train.device import autocast_context, pick_device
from train.distributed import Processes
from train.schedule import LearningRate


class Setup:
    """Fails on bad data (DataError, CacheError) before anything is written."""

    def __init__(self, config: TrainConfig, cache: Path, processes: Processes = Processes()):
        rank, world, local_rank = processes.rank, processes.world, processes.local_rank
        self.config, self.processes = config, processes
        self.device = device = pick_device(config.device, local_rank)
        self.train_split, self.val_split = open_split(cache / "train"), open_split(cache / "val")
        self.stats = read_stats(cache)
        self.classes, self.names = self.train_split.classes, self.train_split.names
        if self.val_split.classes != self.classes:
            raise CacheError(f"{cache}: train and val have different classes")
        if config.batch_size % world:
            raise DataError(f"--batch-size {config.batch_size} does not split evenly over {world} processes")
        pin, per_rank = device.type == "cuda", config.batch_size // world
        # A small dataset on a big GPU: both splits in device memory, no host in the loop.
        self.resident = resident_on(device, [self.train_split, self.val_split])
        loader, host = (ResidentLoader, {}) if self.resident else (BatchLoader, dict(prefetch=config.workers, pin=pin))
        self.train_loader = loader(self.train_split, per_rank, seed=config.seed, shuffle=config.shuffle, rank=rank,
                                   world=world, device=device, **host)
        self.val_loader = loader(self.val_split, per_rank, shuffle=False, drop_last=False, rank=rank, world=world,
                                 device=device, **host)
        if len(self.train_loader) == 0:
            raise DataError(f"{len(self.train_split)} training images make no batch of {config.batch_size}")
        self.augmenter = Augmenter(self.stats, AugmentConfig(config.flip, config.pca_lighting, config.jitter,
                                                             config.scale_crop, config.random_crop), device)
        self.generator = torch.Generator().manual_seed(config.seed * 7919 + rank)  # the augmentation's draws
        torch.manual_seed(config.seed)
        self.model = create_model(config.model, len(self.classes), dropout=config.dropout, init=config.init)
        self.model.to(device, memory_format=torch.channels_last)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=config.momentum,
                                         weight_decay=config.weight_decay)
        self.learning_rate = LearningRate(config, len(self.train_loader))
        self.autocast, self.precision, needs_scaler = autocast_context(config.precision, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=needs_scaler)
        self.network = self.model  # the model as trained: wrapped in DDP and/or compiled
        if world > 1:
            self.network = DistributedDataParallel(self.model, device_ids=[local_rank] if pin else None)
        if config.compile:
            self.network = torch.compile(self.network)
        self.average = WeightAverage(self.model, config.average_epochs, config.epochs) if config.average_epochs \
            else None
        self.res_schedule = resolution.parse(config.res_schedule)
        self.start_epoch, self.best_error = 0, float("inf")


def state(setup: Setup, epoch: int) -> dict:
    """The checkpoint of the run after epoch (counted from 0)."""
    return {
        "model": setup.model.state_dict(),
        **({"averaged": setup.average.state_dict()} if setup.average else {}),
        "optimizer": setup.optimizer.state_dict(),
        "learning_rate": setup.learning_rate.state_dict(),
        "scaler": setup.scaler.state_dict(),
        "epoch": epoch,
        "best_error": setup.best_error,
        "rng": checkpoint.rng_states(setup.generator),
        "config": vars(setup.config),
        "classes": setup.classes,
        "names": setup.names,
        "stats": setup.stats,
    }


def restore(setup: Setup, saved: dict) -> None:
    if saved["classes"] != setup.classes:
        raise CheckpointError("the checkpoint's classes differ from this dataset's")
    setup.model.load_state_dict(saved["model"])
    if setup.average and "averaged" in saved:
        setup.average.load_state_dict(saved["averaged"])
    setup.optimizer.load_state_dict(saved["optimizer"])
    if "learning_rate" in saved:
        setup.learning_rate.load_state_dict(saved["learning_rate"])
    else:  # written before the learning rate was one function of the step
        setup.learning_rate.load_torch_scheduler(saved["scheduler"])
    setup.scaler.load_state_dict(saved["scaler"])
    checkpoint.restore_rng(saved["rng"], setup.generator)
    setup.start_epoch, setup.best_error = saved["epoch"] + 1, saved["best_error"]
