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
--out (train/run_folder.py).
"""
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn import functional as F
from tqdm import tqdm

from data.cache import CacheError
from data.folders import DataError
from data.prepare import prepare_cache
from train import checkpoint, distributed, resolution, run_folder, setup as training
from train.checkpoint import CheckpointError
from train.config import ConfigError, build_parser, given_flags, resolved
from train.device import DeviceError
from train.distributed import DistributedError, Processes
from train.evaluate import evaluate_center, topk_correct
from train.monitor import MetricsLog, collapse_warnings, epoch_line


class TrainingStopped(Exception):
    pass


def train_one_epoch(network, optimizer, scaler, loader, augmenter, generator, learning_rate, autocast, device,
                    epoch: int, side: int, label_smoothing: float = 0.0, average=None, max_steps: int | None = None,
                    show_progress: bool = True) -> dict:
    """One pass over the training batches at crops of side px; the loss, top-1/top-5 and speed."""
    network.train()
    steps = min(len(loader), max_steps or len(loader))
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros(2, device=device, dtype=torch.int64)
    seen, started = 0, time.perf_counter()
    bar = tqdm(total=steps, desc=f"epoch {epoch + 1} at {side} px", unit="batch", disable=not show_progress,
               leave=False)
    for step, (images, labels) in zip(range(steps), loader.epoch(epoch)):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate.at(epoch * len(loader) + step)
        images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        with autocast:
            logits = network(augmenter.train(images, generator, side))
            loss = F.cross_entropy(logits.float(), labels, label_smoothing=label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        if average and average.covers(epoch):
            average.update()
        loss_sum += loss.detach() * len(labels)
        correct += topk_correct(logits.detach(), labels)
        seen += len(labels)
        if step % 10 == 0 or step == steps - 1:  # a sync with the device: not every step
            mean_loss = float(loss_sum) / seen
            if not math.isfinite(mean_loss):
                raise TrainingStopped(f"the training loss became {mean_loss} at epoch {epoch + 1}, step {step + 1}. "
                                      "Lower --lr or try --precision fp32; the last good checkpoint is kept")
            bar.set_postfix(loss=f"{mean_loss:.3f}", acc=f"{int(correct[0]) / seen:.3f}",
                            lr=f"{optimizer.param_groups[0]['lr']:.2g}")
        bar.update()
    bar.close()
    seconds = time.perf_counter() - started
    totals = torch.cat([loss_sum.reshape(1), correct.double(), torch.tensor([seen], device=device).double()])
    if dist.is_initialized():
        dist.all_reduce(totals)
    n = float(totals[3])
    return {"train_loss": float(totals[0]) / n, "train_top1": float(totals[1]) / n, "train_top5": float(totals[2]) / n,
            "images_per_s": n / seconds, "train_seconds": seconds}


def fit(run: training.Setup, run_dir: Path | None) -> None:
    """Epochs from where the run stands to --epochs (or --stop-after); rank 0 writes run_dir."""
    config, rank = run.config, run.processes.rank
    log = MetricsLog(run_dir) if rank == 0 else None
    elapsed = log.elapsed_before(run.start_epoch) if log else 0.0  # all the run's parts: time-to-accuracy
    last = min(config.epochs, config.stop_after or config.epochs)
    for epoch in range(run.start_epoch, last):
        started = time.perf_counter()
        side = resolution.side_at(run.res_schedule, epoch)
        train = train_one_epoch(run.network, run.optimizer, run.scaler, run.train_loader, run.augmenter,
                                run.generator, run.learning_rate, run.autocast, run.device, epoch, side,
                                config.label_smoothing, run.average, config.max_steps,
                                show_progress=not config.quiet and rank == 0)
        val = evaluate_center(run.network, run.val_loader, run.augmenter, run.device, run.autocast, len(run.classes))
        averaged = None
        if run.average and run.average.covers(epoch):
            averaged = evaluate_center(run.average.model, run.val_loader, run.augmenter, run.device, run.autocast,
                                       len(run.classes))
        elapsed += time.perf_counter() - started
        if not math.isfinite(val["loss"]):
            raise TrainingStopped(f"the validation loss became {val['loss']} after epoch {epoch + 1}; lower --lr. "
                                  "The last good checkpoint is kept")
        lr = run.optimizer.param_groups[0]["lr"]
        run.learning_rate.end_epoch(epoch, 1 - val["top1"])
        improved = 1 - val["top1"] < run.best_error
        run.best_error = min(run.best_error, 1 - val["top1"])
        if rank != 0:
            continue
        row = log.append_epoch(epoch + 1, train, side, resolution.epoch_equivalents(run.res_schedule, epoch + 1),
                               elapsed, val, lr, averaged)
        run_folder.save_checkpoints(run_dir, training.state(run, epoch), improved,
                                    run.average.model.state_dict() if averaged else None)
        print(epoch_line(row, config.epochs, improved), flush=True)
        for warning in collapse_warnings(val["predicted"], val["loss"], run.names, vars(config)):
            print(f"WARNING: {warning}", file=sys.stderr, flush=True)
    if last < config.epochs and rank == 0:
        print(f"stopped after epoch {last} of {config.epochs}; continue with --resume {run_dir}")


def train(given: dict) -> Path | None:
    """Trains a run from the flags given (a new run, or --resume); returns its folder on rank 0."""
    processes = Processes.from_environment()
    config = run_folder.resumed_config(given) if "resume" in given else resolved(given)
    # Before any process group: no collective may wait on a cache build (train/distributed.py).
    cache = prepare_cache(config.dataset, config.data_dir, config.cache_dir, config.quiet, config.cache_format)
    if processes.world > 1:
        distributed.start(processes, config.device, config.dist_timeout)
    try:
        run = training.Setup(config, cache, processes)  # fails on bad data before any folder exists
        run_dir = None
        if processes.rank == 0:
            run_dir = Path(config.resume) if config.resume else run_folder.new_run_dir(config)
        if config.resume:
            training.restore(run, checkpoint.load(Path(config.resume) / "last.pt", run.device))
        if processes.rank == 0:
            config.save(run_dir / "config.json")
            print(f"run folder {run_dir}: {config.model} on {config.dataset} ({len(run.train_split)} train, "
                  f"{len(run.val_split)} val images, {len(run.classes)} classes), {run.device}, {run.precision}, "
                  f"{processes.world} process(es), epochs {run.start_epoch + 1}..{config.epochs}" +
                  (f", {run.resident}" if run.resident else ""))
            (run_dir / run_folder.DIVERGED).unlink(missing_ok=True)
        try:
            fit(run, run_dir)
        except TrainingStopped as error:
            if processes.rank == 0:
                (run_dir / run_folder.DIVERGED).write_text(f"{error}\n")
            raise
        return run_dir
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


ERRORS = (DataError, CacheError, CheckpointError, ConfigError, DeviceError, DistributedError, TrainingStopped)


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))  # `bazel run` starts in the runfiles tree
    given = given_flags(argv, __doc__)
    try:
        train(given)
    except ConfigError as error:  # settings that contradict each other: a usage error, as argparse's
        build_parser(__doc__).error(str(error))
    except ERRORS as error:
        print(f"alexnet: error: {error}", file=sys.stderr)
        return 2
    except torch.OutOfMemoryError:
        print("alexnet: error: out of memory; lower --batch-size (the last checkpoint is kept)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("alexnet: interrupted; resume with --resume RUN_FOLDER", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
