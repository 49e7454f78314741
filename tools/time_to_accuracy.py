"""Validation top-1 of several runs against wall-clock minutes and against compute, one chart.

    tools/bazel run //tools:time_to_accuracy -- RUN_FOLDER RUN_FOLDER ... --out docs/time-to-accuracy.png

Each run folder is one the trainer wrote (config.json, metrics.jsonl). Left: validation
top-1 (centre crop) against the run's cumulative training and validation minutes, over
all its resumed parts; right: against epoch-equivalents (sum of (crop side / 224)^2), so
machines of different speed compare too. Prints one line per run: recipe, network, best
top-1 and the minutes it took.
"""
import argparse
import json
import os
import sys
from pathlib import Path


class RunError(Exception):
    pass


def read_run(folder: Path) -> tuple[dict, list[dict]]:
    config_path, metrics_path = folder / "config.json", folder / "metrics.jsonl"
    if not config_path.is_file() or not metrics_path.is_file():
        raise RunError(f"{folder} is not a run folder (it needs config.json and metrics.jsonl)")
    rows = [json.loads(line) for line in metrics_path.read_text().splitlines() if line.strip()]
    if not rows:
        raise RunError(f"{metrics_path} has no finished epoch yet")
    if any("elapsed_s" not in row or "epoch_equivalents" not in row for row in rows):
        raise RunError(f"{metrics_path} predates the elapsed_s and epoch_equivalents fields; rerun it")
    return json.loads(config_path.read_text()), rows


def label(config: dict) -> str:
    return f"{config.get('recipe', 'paper')} recipe, {config['model']}"


def draw(runs: list[tuple[dict, list[dict]]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (by_time, by_compute) = pyplot.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for config, rows in runs:
        top1 = [100 * row["val_top1"] for row in rows]
        by_time.plot([row["elapsed_s"] / 60 for row in rows], top1, marker=".", label=label(config))
        by_compute.plot([row["epoch_equivalents"] for row in rows], top1, marker=".", label=label(config))
    by_time.set(xlabel="wall-clock minutes (training and validation)", ylabel="validation top-1, centre crop (%)")
    by_compute.set(xlabel="epoch-equivalents (224-px epochs)")
    for axes in (by_time, by_compute):
        axes.grid(alpha=0.3)
    by_time.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=90)
    pyplot.close(figure)


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run folders")
    parser.add_argument("--out", type=Path, default=Path("time-to-accuracy.png"))
    args = parser.parse_args(argv)
    try:
        runs = [read_run(folder) for folder in args.runs]
    except (RunError, json.JSONDecodeError) as error:
        print(f"time_to_accuracy: error: {error}", file=sys.stderr)
        return 2
    for (config, rows), folder in zip(runs, args.runs):
        best = max(rows, key=lambda row: row["val_top1"])
        print(f"{folder}: {label(config)}, best top-1 {100 * best['val_top1']:.1f}% at epoch {best['epoch']} "
              f"({best['elapsed_s'] / 60:.0f} min, {best['epoch_equivalents']:.1f} epoch-equivalents); "
              f"{len(rows)} epochs in {rows[-1]['elapsed_s'] / 60:.0f} min")
    draw(runs, args.out)
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
