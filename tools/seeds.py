"""One recipe trained with several seeds: the mean and range of its centre-crop and ten-patch top-1.

    tools/bazel run //tools:seeds -- --seeds=0,1,2 --out /root/runs/fast-seeds -- --recipe fast --dataset=folder --data-dir DIR
    tools/bazel run //tools:seeds -- --dataset=sample      # the trainer's flags default to --dataset=sample

The trainer's flags follow `--` (any of //train:alexnet's but --seed, --out and --resume).
Each seed trains in OUT/seed-<n>/ (a finished run is skipped, one cut short resumed, one
trained with other settings refused), then its best.pt (or --which) gets the paper's
ten-patch evaluation (//eval:tenpatch, kept in RUN/tenpatch-<which>/ and redone only when
the checkpoint is newer or the report lacks a column). Writes OUT/seeds.md, a row per seed
and then the mean and the lowest-highest of centre-crop and ten-patch top-1 and top-5 and
of ten patches with the whole image added, then the seeds as one ensemble (their
probabilities averaged, as the paper averaged its CNNs: //eval:ensemble), and
OUT/seeds.png, the seeds as a band against minutes and epoch-equivalents.
"""
import argparse
import json
import os
import statistics
import sys
from pathlib import Path

from data.cache import CacheError
from data.folders import DataError
from eval import ensemble, methods, tenpatch
from eval.loading import CHECKPOINTS
from train.checkpoint import CheckpointError
from tools import time_to_accuracy
from tools.runs import RunError, parse_seeds, read_run, train_to_end

COLUMNS = [(methods.CENTER, "top1_error", "centre top-1"), (methods.TENPATCH, "top1_error", "ten-patch top-1"),
           (methods.TENPATCH, "top5_error", "ten-patch top-5"),
           (methods.TENPATCH_AND_WHOLE, "top1_error", "ten patches + whole image top-1")]


def up_to_date(out: Path, weights: Path) -> bool:
    """Whether out/ holds an evaluation of these weights by an //eval:tenpatch that reported every
    method of the table and kept its probabilities (for the ensemble row)."""
    report = out / "tenpatch.json"
    if not report.exists() or not (out / methods.PROBABILITIES).exists():
        return False
    if weights.exists() and report.stat().st_mtime < weights.stat().st_mtime:
        return False
    reported = json.loads(report.read_text())["methods"]
    return all(method in reported for method, _, _ in COLUMNS)


def evaluated(run_dir: Path, which: str) -> dict:
    """The ten-patch result of the run's checkpoint, evaluated now unless up to date."""
    out = run_dir / f"tenpatch-{which}"
    if not up_to_date(out, run_dir / f"{which}.pt"):
        try:
            tenpatch.write(*tenpatch.evaluate(run_dir / f"{which}.pt", quiet=True), out)
        except (DataError, CacheError, CheckpointError) as error:
            raise RunError(f"the ten-patch evaluation of {run_dir} failed: {error}") from None
    return json.loads((out / "tenpatch.json").read_text())


def table(results: list[tuple[int, Path, list[dict], dict]], averaged: dict) -> str:
    accuracy = {seed: [100 * (1 - result["methods"][method][error]) for method, error, _ in COLUMNS]
                for seed, _, _, result in results}
    lines = ["| seed | " + " | ".join(name for *_, name in COLUMNS) + " | epochs | wall minutes | run folder |",
             "|---" * (len(COLUMNS) + 4) + "|"]
    for seed, run_dir, rows, _ in results:
        lines.append(f"| {seed} | " + " | ".join(f"{value:.1f}%" for value in accuracy[seed]) +
                     f" | {len(rows)} | {rows[-1].get('elapsed_s', 0) / 60:.1f} | {run_dir} |")
    columns = list(zip(*accuracy.values()))
    lines.append("| **mean** | " + " | ".join(f"**{statistics.mean(c):.1f}%**" for c in columns) + " | | | |")
    lines.append("| lowest-highest | " + " | ".join(f"{min(c):.1f}-{max(c):.1f}%" for c in columns) + " | | | |")
    lines.append(f"| ensemble of the {len(results)} | " +
                 " | ".join(f"{100 * (1 - averaged[method][error]):.1f}%" for method, error, _ in COLUMNS) + " | | | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))
    argv = sys.argv[1:] if argv is None else argv
    ours, trainer_args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=parse_seeds, default=[0, 1, 2], help="comma-separated, e.g. 0,1,2")
    parser.add_argument("--which", choices=CHECKPOINTS, default="best", help="the checkpoint evaluated")
    parser.add_argument("--out", type=Path, default=Path("runs/seeds"))
    args, rest = parser.parse_known_args(ours)
    trainer_args = rest + trainer_args  # trainer flags given before `--` too
    for flag in ("--seed", "--out", "--resume"):
        if any(arg == flag or arg.startswith(flag + "=") for arg in trainer_args):
            parser.error(f"{flag} is the tool's to set, one per seed; leave it out of the trainer's flags")
    if not any(arg.startswith("--dataset") for arg in trainer_args):
        trainer_args.append("--dataset=sample")
    results = []
    try:
        for seed in args.seeds:
            print(f"seed {seed}", flush=True)
            run_dir = train_to_end(args.out / f"seed-{seed}", [*trainer_args, f"--seed={seed}"])
            results.append((seed, run_dir, read_run(run_dir)[1], evaluated(run_dir, args.which)))
        members = [run_dir / f"tenpatch-{args.which}" for _, run_dir, _, _ in results]
        averaged = ensemble.ensemble(members)["ensemble"]
        timed = [time_to_accuracy.read_timed_run(run_dir) for _, run_dir, _, _ in results]
    except (RunError, ensemble.EnsembleError) as error:
        print(f"seeds: error: {error}", file=sys.stderr)
        return 2
    markdown = table(results, averaged)
    (args.out / "seeds.md").write_text(markdown)
    print(markdown)
    time_to_accuracy.draw(time_to_accuracy.group_seeds(timed), args.out / "seeds.png")
    print(f"written: {args.out / 'seeds.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
