"""Validation top-1 of several runs against wall-clock minutes and against compute, one chart.

    tools/bazel run //tools:time_to_accuracy -- RUN_FOLDER RUN_FOLDER ... --out docs/time-to-accuracy.png
    tools/bazel run //tools:time_to_accuracy -- /root/runs/fast-seeds/seed-*/* --out band.png

Each run folder is one the trainer wrote (config.json, metrics.jsonl). Left: validation
top-1 (centre crop) against the run's cumulative training and validation minutes, over
all its resumed parts; right: against epoch-equivalents (sum of (crop side / 224)^2), so
machines of different speed compare too. Runs that differ only in their seed (or in
where and how they ran) are one recipe: drawn as their mean with a band from the lowest
to the highest, over the epochs they all finished. Prints one line per run and, for a
recipe with several seeds, the mean and range of their best top-1.
"""
import argparse
import os
import statistics
import sys
from pathlib import Path

from train.config import NOT_THE_RECIPE
from tools.runs import RunError, best_top1, read_run


def read_timed_run(folder: Path) -> tuple[dict, list[dict]]:
    config, rows = read_run(folder)
    if any("elapsed_s" not in row or "epoch_equivalents" not in row for row in rows):
        raise RunError(f"{folder / 'metrics.jsonl'} predates the elapsed_s and epoch_equivalents fields; rerun it")
    return config, rows


def label(config: dict) -> str:
    return f"{config.get('recipe', 'paper')} recipe, {config['model']}"


def group_seeds(runs: list[tuple[dict, list[dict]]]) -> list[list[tuple[dict, list[dict]]]]:
    """The runs grouped by recipe (config less NOT_THE_RECIPE), in the order first given."""
    groups: dict[str, list] = {}
    for config, rows in runs:
        key = repr(sorted((k, v) for k, v in config.items() if k not in NOT_THE_RECIPE))
        groups.setdefault(key, []).append((config, rows))
    return list(groups.values())


def band(group: list[tuple[dict, list[dict]]], field: str, scale: float) -> tuple[list, list, list, list]:
    """x (the mean of field), and the mean, lowest and highest top-1 at each epoch all runs finished."""
    epochs = zip(*(rows for _, rows in group))  # stops at the shortest run
    columns = [([row[field] / scale for row in rows], [100 * row["val_top1"] for row in rows]) for rows in epochs]
    return ([statistics.mean(x) for x, _ in columns], [statistics.mean(top1) for _, top1 in columns],
            [min(top1) for _, top1 in columns], [max(top1) for _, top1 in columns])


def draw(groups: list[list[tuple[dict, list[dict]]]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (by_time, by_compute) = pyplot.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for group in groups:
        name = label(group[0][0]) + (f" ({len(group)} seeds: mean, band min-max)" if len(group) > 1 else "")
        for axes, field, scale in ((by_time, "elapsed_s", 60), (by_compute, "epoch_equivalents", 1)):
            xs, means, lows, highs = band(group, field, scale)
            line, = axes.plot(xs, means, marker=".", label=name)
            if len(group) > 1:
                axes.fill_between(xs, lows, highs, color=line.get_color(), alpha=0.25, linewidth=0)
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
        runs = [read_timed_run(folder) for folder in args.runs]
    except RunError as error:
        print(f"time_to_accuracy: error: {error}", file=sys.stderr)
        return 2
    for (config, rows), folder in zip(runs, args.runs):
        best = max(rows, key=lambda row: row["val_top1"])
        print(f"{folder}: {label(config)}, seed {config.get('seed', 0)}, best top-1 {100 * best['val_top1']:.1f}% "
              f"at epoch {best['epoch']} ({best['elapsed_s'] / 60:.0f} min, {best['epoch_equivalents']:.1f} "
              f"epoch-equivalents); {len(rows)} epochs in {rows[-1]['elapsed_s'] / 60:.0f} min")
    groups = group_seeds(runs)
    for group in groups:
        if len(group) > 1:
            values = [best_top1(rows) for _, rows in group]
            print(f"{label(group[0][0])}, {len(group)} seeds: best top-1 mean {statistics.mean(values):.1f}%, "
                  f"range {min(values):.1f}-{max(values):.1f}%")
    draw(groups, args.out)
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
