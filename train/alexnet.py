"""Trains AlexNet (or a variant, or a baseline) with the paper's recipe.

    tools/bazel run //train:alexnet -- --dataset=imagenette
    tools/bazel run //train:alexnet -- --dataset=sample --epochs=3          # offline demo
    tools/bazel run //train:alexnet -- --dataset=folder --data-dir DIR      # any train/ val/ tree
    tools/bazel run //train:alexnet -- --resume runs/alexnet-sample-20261126-093000
    tools/bazel run //train:alexnet -- --recipe fast --dataset=folder --data-dir DIR   # see docs/RESULTS.md
    python -m train.alexnet --dataset=sample                              # without Bazel
    torchrun --nproc_per_node=8 -m train.alexnet --dataset=imagenet --data-dir DIR

SGD with momentum 0.9 and weight decay 5e-4, batch 128, learning rate 0.01 divided
by 10 when the validation error stops improving; random 224 crops of the 256 images,
random mirrors and PCA lighting (data/augment.py). Each run writes a folder under
--out: config.json, metrics.jsonl, curves.png, last.pt and best.pt (and averaged.pt with
--average-epochs).
"""
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from data import preprocess
from data.augment import AugmentConfig, Augmenter
from data.batches import BatchLoader
from data.cache import CacheError, open_split, read_stats
from data.datasets import DataError
from model.registry import create_model
from train import checkpoint, distributed, resolution
from train.averaging import WeightAverage
from train.checkpoint import CheckpointError
from train.config import TrainConfig, parse_config
from train.device import autocast_context, pick_device
from train.distributed import DistributedError, Processes
from train.evaluate import evaluate_center, topk_correct
from train.monitor import MetricsLog, collapse_warnings


class TrainingStopped(Exception):
    pass


# Written into a run folder whose loss stopped being finite: resuming would replay the same
# steps from the last good checkpoint, so tools that sweep learning rates read it as an outcome.
DIVERGED = "diverged.txt"


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def step_lr(config: TrainConfig, step: int, steps_per_epoch: int) -> float | None:
    """The learning rate set before each step: the linear warm-up, then the linear schedule's
    straight line to 0 at the last step. None: the per-epoch scheduler sets it."""
    warmup = config.warmup_epochs * steps_per_epoch
    if step < warmup:
        return config.lr * (step + 1) / warmup
    if config.schedule == "linear":
        total = config.epochs * steps_per_epoch
        return config.lr * max(total - step, 0) / (total - warmup)
    return None


def build_scheduler(config: TrainConfig, optimizer: torch.optim.Optimizer):
    if config.schedule == "linear":  # set every step by step_lr
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0)
    if config.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min", factor=0.1, patience=config.patience)
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)


class Trainer:
    def __init__(self, config: TrainConfig, cache: Path, processes: Processes = Processes()):
        rank, world, local_rank = processes.rank, processes.world, processes.local_rank
        self.config, self.rank, self.world = config, rank, world
        self.run_dir: Path | None = None  # set by run() once the data is known to be good; rank 0 only
        self.device = pick_device(config.device, local_rank)
        self.train_split, self.val_split = open_split(cache / "train"), open_split(cache / "val")
        self.stats = read_stats(cache)
        self.classes, self.names = self.train_split.classes, self.train_split.names
        if self.val_split.classes != self.classes:
            raise CacheError(f"{cache}: train and val have different classes")
        if config.batch_size % world:
            raise DataError(f"--batch-size {config.batch_size} does not split evenly over {world} processes")
        pin = self.device.type == "cuda"
        self.train_loader = BatchLoader(self.train_split, config.batch_size // world, config.seed, config.shuffle,
                                        rank=rank, world=world, prefetch=config.workers, pin=pin, device=self.device)
        self.val_loader = BatchLoader(self.val_split, config.batch_size // world, shuffle=False, drop_last=False,
                                      rank=rank, world=world, prefetch=config.workers, pin=pin, device=self.device)
        if len(self.train_loader) == 0:
            raise DataError(f"{len(self.train_split)} training images make no batch of {config.batch_size}")
        self.augmenter = Augmenter(self.stats, AugmentConfig(config.flip, config.pca_lighting, config.jitter,
                                                             config.scale_crop, config.random_crop), self.device)
        self.generator = torch.Generator().manual_seed(config.seed * 7919 + rank)
        torch.manual_seed(config.seed)
        self.model = create_model(config.model, len(self.classes), dropout=config.dropout, init=config.init)
        self.model.to(self.device, memory_format=torch.channels_last)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=config.momentum,
                                         weight_decay=config.weight_decay)
        self.scheduler = build_scheduler(config, self.optimizer)
        self.autocast, self.precision, needs_scaler = autocast_context(config.precision, self.device)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=needs_scaler)
        self.network = self.model
        if world > 1:
            self.network = DistributedDataParallel(self.model, device_ids=[local_rank] if pin else None)
        if config.compile:
            self.network = torch.compile(self.network)
        self.average = WeightAverage(self.model, config.average_epochs, config.epochs) if config.average_epochs else None
        self.start_epoch, self.best_error = 0, float("inf")
        self.res_schedule = resolution.parse(config.res_schedule)

    def state(self, epoch: int) -> dict:
        return {
            "model": self.model.state_dict(),
            **({"averaged": self.average.state_dict()} if self.average else {}),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": epoch,
            "best_error": self.best_error,
            "rng": checkpoint.rng_states(self.generator),
            "config": vars(self.config),
            "classes": self.classes,
            "names": self.names,
            "stats": self.stats,
        }

    def restore(self, state: dict) -> None:
        if state["classes"] != self.classes:
            raise CheckpointError("the checkpoint's classes differ from this dataset's")
        self.model.load_state_dict(state["model"])
        if self.average and "averaged" in state:
            self.average.load_state_dict(state["averaged"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        checkpoint.restore_rng(state["rng"], self.generator)
        self.start_epoch, self.best_error = state["epoch"] + 1, state["best_error"]

    def train_one_epoch(self, epoch: int) -> dict:
        config = self.config
        self.network.train()
        steps = min(len(self.train_loader), config.max_steps or len(self.train_loader))
        side = resolution.side_at(self.res_schedule, epoch)
        loss_sum = torch.zeros((), device=self.device, dtype=torch.float64)
        correct = torch.zeros(2, device=self.device, dtype=torch.int64)
        seen, started = 0, time.perf_counter()
        bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{config.epochs} at {side} px", unit="batch",
                   disable=config.quiet or self.rank != 0, leave=False)
        for step, (images, labels) in enumerate(self.train_loader.epoch(epoch)):
            if step == steps:
                break
            lr = step_lr(config, epoch * len(self.train_loader) + step, len(self.train_loader))
            if lr is not None:
                set_lr(self.optimizer, lr)
            images = images.to(self.device, non_blocking=True)
            labels = labels.to(self.device, non_blocking=True)
            with self.autocast:
                logits = self.network(self.augmenter.train(images, self.generator, side))
                loss = F.cross_entropy(logits.float(), labels, label_smoothing=config.label_smoothing)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            if self.average and self.average.covers(epoch):
                self.average.update(self.model)
            loss_sum += loss.detach() * len(labels)
            correct += topk_correct(logits.detach(), labels)
            seen += len(labels)
            if step % 10 == 0 or step == steps - 1:
                mean_loss = float(loss_sum) / seen
                if not math.isfinite(mean_loss):
                    raise TrainingStopped(
                        f"the training loss became {mean_loss} at epoch {epoch + 1}, step {step + 1}. "
                        "Lower --lr or try --precision fp32; the last good checkpoint is kept"
                    )
                bar.set_postfix(loss=f"{mean_loss:.3f}", acc=f"{int(correct[0]) / seen:.3f}",
                                lr=f"{self.optimizer.param_groups[0]['lr']:.2g}",
                                img_s=f"{seen * self.world / (time.perf_counter() - started):.0f}")
            bar.update()
        bar.close()
        seconds = time.perf_counter() - started
        totals = torch.cat([loss_sum.reshape(1), correct.double(), torch.tensor([seen], device=self.device).double()])
        if dist.is_initialized():
            dist.all_reduce(totals)
        n = float(totals[3])
        return {"train_loss": float(totals[0]) / n, "train_top1": float(totals[1]) / n,
                "train_top5": float(totals[2]) / n, "images_per_s": n / seconds, "train_seconds": seconds,
                "train_side": side, "epoch_equivalents": resolution.epoch_equivalents(self.res_schedule, epoch + 1)}

    def end_epoch(self, epoch: int, train: dict, val: dict, averaged: dict | None, log: MetricsLog | None) -> None:
        if not math.isfinite(val["loss"]):
            raise TrainingStopped(f"the validation loss became {val['loss']} after epoch {epoch + 1}; lower --lr. "
                                  "The last good checkpoint is kept")
        error = 1 - val["top1"]
        lr = self.optimizer.param_groups[0]["lr"]
        if epoch + 1 >= self.config.warmup_epochs and self.config.schedule != "linear":
            if self.config.schedule == "plateau":
                self.scheduler.step(error)
            else:
                self.scheduler.step()
        improved = error < self.best_error
        self.best_error = min(self.best_error, error)
        if self.rank != 0:
            return
        row = {"epoch": epoch + 1, **train, "val_loss": val["loss"], "val_top1": val["top1"], "val_top5": val["top5"],
               "lr": lr, "wall_time": time.time()}
        if averaged:
            row.update(val_loss_averaged=averaged["loss"], val_top1_averaged=averaged["top1"],
                       val_top5_averaged=averaged["top5"])
        log.append(row)
        state = self.state(epoch)
        checkpoint.save(state, self.run_dir / "last.pt")
        if improved:
            checkpoint.link(self.run_dir / "last.pt", self.run_dir / "best.pt")
        if averaged:  # what //eval needs, with the mean in place of the weights
            keep = ("config", "classes", "names", "stats", "epoch")
            checkpoint.save({**{k: state[k] for k in keep}, "model": self.average.model.state_dict()},
                            self.run_dir / "averaged.pt")
        print(f"epoch {epoch + 1:3d}/{self.config.epochs}  train loss {train['train_loss']:.3f} "
              f"top-1 {100 * train['train_top1']:5.1f}%  |  val loss {val['loss']:.3f} top-1 "
              f"{100 * val['top1']:5.1f}% top-5 {100 * val['top5']:5.1f}%  |  lr {lr:.2g}  "
              f"{train['images_per_s']:.0f} img/s at {train['train_side']} px" + ("  *best" if improved else "") +
              (f"  |  averaged weights: val top-1 {100 * averaged['top1']:5.1f}%" if averaged else ""), flush=True)
        for warning in collapse_warnings(val["predicted"], val["loss"], self.names, vars(self.config)):
            print(f"WARNING: {warning}", file=sys.stderr, flush=True)

    def fit(self) -> None:
        log = MetricsLog(self.run_dir) if self.rank == 0 else None
        elapsed = 0.0  # training and validation seconds of all the run's parts: time-to-accuracy
        if log is not None:
            log.truncate(self.start_epoch)
            rows = log.read()
            elapsed = rows[-1].get("elapsed_s", 0.0) if rows else 0.0
        last = min(self.config.epochs, self.config.stop_after or self.config.epochs)
        for epoch in range(self.start_epoch, last):
            started = time.perf_counter()
            train = self.train_one_epoch(epoch)
            val = evaluate_center(self.network, self.val_loader, self.augmenter, self.device, self.autocast,
                                  len(self.classes))
            averaged = None
            if self.average and self.average.covers(epoch):
                averaged = evaluate_center(self.average.model, self.val_loader, self.augmenter, self.device,
                                           self.autocast, len(self.classes))
            elapsed += time.perf_counter() - started
            self.end_epoch(epoch, {**train, "elapsed_s": elapsed}, val, averaged, log)
        if last < self.config.epochs and self.rank == 0:
            print(f"stopped after epoch {last} of {self.config.epochs}; continue with --resume {self.run_dir}")


def new_run_dir(config: TrainConfig) -> Path:
    run_dir = Path(config.out) / f"{config.model}-{config.dataset}-{time.strftime('%Y%m%d-%H%M%S')}"
    suffix = 1
    while run_dir.exists():
        run_dir = run_dir.with_name(f"{run_dir.name.split('+')[0]}+{suffix}")
        suffix += 1
    run_dir.mkdir(parents=True)
    return run_dir


def resumed_config(config: TrainConfig, argv: list[str] | None) -> TrainConfig:
    """The run's saved config; flags that change what is trained must agree with it."""
    run_dir = Path(config.resume)
    if not (run_dir / "config.json").is_file():
        runs = sorted(run_dir.glob("*/last.pt"), key=lambda path: path.stat().st_mtime)
        if not runs:
            raise CheckpointError(f"{run_dir} is neither a run folder (no config.json) nor a folder of runs")
        run_dir = runs[-1].parent  # given --out: its newest run, as //eval:tenpatch picks
        print(f"{config.resume} holds runs; resuming the newest, {run_dir}")
    saved = TrainConfig.load(run_dir / "config.json")
    given, defaults = parse_config(argv or [], ""), parse_config([], "")
    free = {"epochs", "quiet", "device", "resume", "max_steps", "stop_after", "workers", "out", "compile",
            "dist_timeout"}
    for field in vars(saved):
        if field in free or getattr(given, field) == getattr(defaults, field):
            continue  # not given on this command line
        if getattr(given, field) != getattr(saved, field):
            raise CheckpointError(
                f"{run_dir} was trained with {field}={getattr(saved, field)!r}; resuming cannot change it "
                f"to {getattr(given, field)!r} (start a new run instead)"
            )
    for field in free:
        if getattr(given, field) != getattr(defaults, field):
            setattr(saved, field, getattr(given, field))
    saved.stop_after = given.stop_after  # a part's stopping point is not the next part's
    saved.resume = str(run_dir)
    return saved


def run(config: TrainConfig, argv: list[str] | None) -> Path | None:
    processes = Processes.from_environment()
    rank, world = processes.rank, processes.world
    if config.resume:
        config = resumed_config(config, argv)
    # Before any process group: no collective may wait on a cache build (train/distributed.py).
    cache = preprocess.prepare_cache(config.dataset, config.data_dir, config.cache_dir, config.quiet,
                                     config.cache_format)
    if world > 1:
        distributed.start(processes, config.device, config.dist_timeout)
    try:
        trainer = Trainer(config, cache, processes)  # fails on bad data before any folder exists
        run_dir = Path(config.resume) if config.resume else (new_run_dir(config) if rank == 0 else None)
        trainer.run_dir = run_dir
        if config.resume:
            trainer.restore(checkpoint.load(run_dir / "last.pt", trainer.device))
        if rank == 0:
            config.save(run_dir / "config.json")
            print(f"run folder {run_dir}: {config.model} on {config.dataset} ({len(trainer.train_split)} train, "
                  f"{len(trainer.val_split)} val images, {len(trainer.classes)} classes), {trainer.device}, "
                  f"{trainer.precision}, {world} process(es), epochs {trainer.start_epoch + 1}..{config.epochs}")
        if rank == 0:
            (run_dir / DIVERGED).unlink(missing_ok=True)
        try:
            trainer.fit()
        except TrainingStopped as error:
            if rank == 0:
                (run_dir / DIVERGED).write_text(f"{error}\n")
            raise
        return run_dir
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))  # `bazel run` starts in the runfiles tree
    config = parse_config(argv, __doc__)
    try:
        run(config, argv if argv is not None else sys.argv[1:])
    except (DataError, CacheError, CheckpointError, DistributedError, TrainingStopped) as error:
        print(f"alexnet: error: {error}", file=sys.stderr)
        return 2
    except torch.OutOfMemoryError:
        print(f"alexnet: error: out of memory at batch size {config.batch_size}; lower --batch-size "
              "(the last checkpoint is kept)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("alexnet: interrupted; resume with --resume RUN_FOLDER", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
