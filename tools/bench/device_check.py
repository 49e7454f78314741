"""The device check: what a GPU machine measures, in one command prepared before the GPU is there.

    python -m tools.bench.device_bundle --data-dir ../shared/data/imagenette2-224sq --out device-bundle  # on a CPU
    python -m tools.bench.device_check --data-dir device-bundle --out DIR          # on the GPU machine, < 8 min
    python -m tools.bench.device_check --device cpu --tiny --out DIR               # every commit, in the tests

Four stages, each in a process of its own with its own time limit; each writes what it
has measured to DIR/<stage>.json as soon as it has it, and a line of it to
DIR/device_check.log; a stage that fails or runs out of time is reported as such and the
next one runs. DIR/device_check.json gathers the stages finished so far.

1. machine: the device, its memory, driver, torch and CUDA versions, and the fp32 and
   bf16 matrix-product rates measured there, the ceilings for what follows.
2. correctness: the tests with a CUDA side (train/cuda_test.py) under pytest, each
   test's outcome (they skip where no GPU is).
3. speed: torchvision's reference recipe (torchvision.models.alexnet in fp32, NCHW, fed
   by ImageFolder + PIL in a DataLoader) beside this trainer's step (the paper's network,
   channels_last, bf16 autocast, the split resident on the device) at batch 128 and
   larger, with and without torch.compile: images/s, GFLOP/s and their share of the
   measured bf16 peak; and what the loaders alone deliver (uint8 and JPEG caches, CPU
   threads, nvJPEG, resident).
4. accuracy: the fast recipe's shape trained on the bundle (60 epochs of 1,200 images at
   batch 64), validation top-1 after every epoch.
"""
import argparse
import itertools
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from data.batches import BatchLoader
from data.cache import open_split
from data.prepare import build_cache
from data.resident import ResidentLoader
from model.registry import create_model
from tools.bench.steps import seconds_per_step
from train import resolution, setup as training
from train.alexnet import train_one_epoch
from train.config import parse_config
from train.evaluate import evaluate_center

ROOT = Path(__file__).absolute().parents[2]  # the repository, or Bazel's runfiles tree
LIMITS = {"machine": 45, "correctness": 135, "speed": 180, "accuracy": 90}  # seconds: 7.5 minutes, and starts


class Report:
    """A stage's figures: DIR/<stage>.json rewritten with each, and a line in DIR/device_check.log."""

    def __init__(self, out: Path, stage: str):
        self.path, self.log, self.stage, self.figures = out / f"{stage}.json", out / "device_check.log", stage, {}

    def __call__(self, key: str, value) -> None:
        self.figures[key] = value
        self.path.write_text(json.dumps(self.figures, indent=1))
        with open(self.log, "a") as log:
            log.write(f"{self.stage}: {key}: {json.dumps(value)}\n")


def machine(report: Report, args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    report("torch", {"torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
                     "cpu_cores": os.cpu_count(), "cpu_capability": torch.backends.cpu.get_cpu_capability()})
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        smi = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True)
        report("device", {"name": props.name, "memory_gib": props.total_memory / 2**30,
                          "driver": smi.stdout.strip() or smi.stderr.strip()})
    n = 512 if args.tiny else 8192 if device.type == "cuda" else 2048
    for dtype in (torch.float32, torch.bfloat16):
        a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
        seconds = seconds_per_step(lambda: a @ b, itertools.repeat(()), 3 if args.tiny else 20, synchronizer(device))
        report(f"matmul_{str(dtype).removeprefix('torch.')}_tflops", 2 * n**3 / seconds / 1e12)


def synchronizer(device: torch.device):
    return torch.cuda.synchronize if device.type == "cuda" else (lambda: None)


def correctness(report: Report, args: argparse.Namespace) -> None:
    import pytest  # noqa: F401  (a machine without it fails this stage, saying so, and the rest still run)

    xml = report.path.with_suffix(".xml")
    done = subprocess.run([sys.executable, "-m", "pytest", "train/cuda_test.py", "-q", "-rs", f"--junitxml={xml}",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    import xml.etree.ElementTree as ElementTree

    outcomes = {}
    for case in ElementTree.parse(xml).iter("testcase"):
        found = [child for child in case if child.tag in ("failure", "error", "skipped")]
        last_line = (found[0].text or "").strip().splitlines()[-1:] if found and found[0].tag != "skipped" else []
        outcomes[case.get("name")] = f"{found[0].tag}: {' '.join([found[0].get('message', ''), *last_line])[:300]}" \
            if found else "passed"
    report("tests", outcomes)
    report("summary", done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:])


def caches(args: argparse.Namespace, work: Path) -> dict[str, Path]:
    """uint8 and JPEG caches of the bundle (or of the committed sample with --tiny), built here."""
    dataset, data_dir = ("sample", None) if args.tiny else ("folder", str(args.data_dir))
    out = {}
    for cache_format in ("uint8", "jpeg"):
        out[cache_format] = work / f"cache-{cache_format}"
        build_cache(dataset, data_dir, out[cache_format], cache_format, quiet=True)
    return out


def speed(report: Report, args: argparse.Namespace) -> None:
    from torchvision import models

    from tools.bench.steps import endless, reference_loader, reference_step, trainer_step, training_flops

    device, steps = torch.device(args.device), 2 if args.tiny else 20
    built = caches(args, args.out / "work")
    machine_figures = args.out / "machine.json"
    peak = json.loads(machine_figures.read_text()).get("matmul_bfloat16_tflops") if machine_figures.exists() else None
    tree = ROOT / "data" / "sample" if args.tiny else args.data_dir
    batches = [16] if args.tiny else [128, 256, 512]
    side = 112 if args.tiny else 224

    def rate(name: str, batch: int, step, stream, flops: float | None = None) -> None:
        try:
            per_s = batch / seconds_per_step(step, stream, steps, synchronizer(device))
        except Exception as error:  # one configuration that cannot run (torch.compile, memory): the rest still do
            report(name, {"failed": f"{type(error).__name__}: {str(error).strip().splitlines()[0][:300]}"})
            return
        row = {"images_per_s": per_s}
        if flops:
            row["gflop_per_s"] = per_s * flops / 1e9
            row["share_of_bf16_peak"] = per_s * flops / 1e12 / peak if peak else None
        report(name, row)

    for batch in batches:
        loader = reference_loader(tree, batch, side, workers=min(8, os.cpu_count() or 1), pin=True)
        _, peer_step = reference_step(len(loader.dataset.classes), device)
        rate(f"peer torchvision reference, batch {batch}", batch, peer_step, endless(loader),
             training_flops(models.alexnet(num_classes=10), side))
        for compiled in (False, True) if batch in (128, batches[-1]) and not args.tiny else (False,):
            flags = ["--dataset=folder", f"--batch-size={batch}", f"--device={args.device}", "--quiet",
                     *(["--compile"] if compiled else [])]
            run = training.Setup(parse_config(flags), built["uint8"])
            rate(f"this trainer, batch {batch}{', compiled' if compiled else ''}", batch, trainer_step(run, side),
                 endless(ResidentLoader(run.train_split, batch, device, seed=0)),
                 training_flops(create_model("alexnet", 10), side))  # counted on the CPU: the same operations
    for name, cache_format, loader_device in (("uint8 cache, host", "uint8", None),
                                              ("JPEG cache, CPU threads", "jpeg", None),
                                              ("JPEG cache, nvJPEG", "jpeg", device if device.type == "cuda" else None),
                                              ("uint8 cache, resident", "uint8", "resident")):
        if name.endswith("nvJPEG") and loader_device is None:
            continue
        split = open_split(built[cache_format] / "train")
        batch = batches[0]
        if loader_device == "resident":
            loader = ResidentLoader(split, batch, device)
        else:
            loader = BatchLoader(split, batch, pin=device.type == "cuda", device=loader_device)
        rate(f"loader alone: {name}, batch {batch}", batch, lambda images, labels: images.to(device).sum(),
             endless(loader))


def accuracy(report: Report, args: argparse.Namespace) -> None:
    built = caches(args, args.out / "work")
    flags = ["--recipe=fast", "--dataset=folder", f"--device={args.device}", "--quiet"]
    if args.tiny:
        flags += ["--epochs=1", "--max-steps=2", "--batch-size=16", "--res-schedule=1:112"]
    else:  # the fast recipe's shape over 1,200 images: smaller batches and more epochs, for enough steps
        flags += ["--epochs=60", "--batch-size=64", "--lr=0.01", "--res-schedule=1:128,31:176,51:224"]
    run = training.Setup(parse_config(flags), built["jpeg"])
    report("setup", {"train_images": len(run.train_split), "val_images": len(run.val_split), "precision": run.precision,
                     "resident": run.resident, "epochs": run.config.epochs})
    for epoch in range(run.config.epochs):
        side = resolution.side_at(run.res_schedule, epoch)
        train = train_one_epoch(run.network, run.optimizer, run.scaler, run.train_loader, run.augmenter,
                                run.generator, run.learning_rate, run.autocast, run.device, epoch, side,
                                run.config.label_smoothing, max_steps=run.config.max_steps, show_progress=False)
        val = evaluate_center(run.network, run.val_loader, run.augmenter, run.device, run.autocast, len(run.classes))
        report(f"epoch {epoch + 1}", {"side": side, "train_loss": train["train_loss"], "images_per_s":
                                      train["images_per_s"], "val_top1": val["top1"], "val_top5": val["top5"]})


STAGES = {"machine": machine, "correctness": correctness, "speed": speed, "accuracy": accuracy}


def run_stage(stage: str, args: argparse.Namespace) -> None:
    try:
        STAGES[stage](Report(args.out, stage), args)
    except Exception as error:  # reported, and the next stage still runs
        Report(args.out, stage)("failed", f"{type(error).__name__}: {error}")
        raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for the figures")
    parser.add_argument("--data-dir", type=Path, default=Path("device-bundle"), help="//tools/bench:device_bundle")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--tiny", action="store_true", help="the committed sample, a few steps: the tests' size")
    parser.add_argument("--only", choices=STAGES, action="append", help="these stages only")
    args = parser.parse_args(argv)
    if not args.tiny and not (args.data_dir / "train").is_dir():
        parser.error(f"{args.data_dir}/train does not exist: make it with tools/bench/device_bundle.py first")
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {}
    spawn = multiprocessing.get_context("spawn")  # CUDA in a child needs a fresh interpreter
    for stage in args.only or STAGES:
        started = time.perf_counter()
        process = spawn.Process(target=run_stage, args=(stage, args))
        process.start()
        process.join(LIMITS[stage])
        if process.is_alive():
            process.kill()
            process.join()
            Report(args.out, stage)("failed", f"ran past its {LIMITS[stage]} s")
        path = args.out / f"{stage}.json"
        summary[stage] = json.loads(path.read_text()) if path.exists() else {"failed": "wrote nothing"}
        state = "failed" if "failed" in summary[stage] or process.exitcode else "done"
        print(f"{stage}: {state} in {time.perf_counter() - started:.0f} s", flush=True)
        (args.out / "device_check.json").write_text(json.dumps(summary, indent=1))  # complete so far
    print((args.out / "device_check.log").read_text())
    return 0 if all("failed" not in figures for figures in summary.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
