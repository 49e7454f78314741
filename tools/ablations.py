"""The blog's lessons, measured: each row one change from a recipe, as a table and a bar chart.

    tools/bazel run //tools:ablations -- --dataset=sample --epochs=2
    tools/bazel run //tools:ablations -- --dataset=folder --data-dir ../shared/data/imagenette2-224sq --epochs=6
    tools/bazel run //tools:ablations -- … --lr-sweep=0.005,0.01,0.02,0.04
    tools/bazel run //tools:ablations -- … --lr-sweep=0.005,0.01,0.02 --lr-sweep=8,9:0.0025,0.005,0.01

Every row starts from the trainer's --recipe (fast unless told) at the given epochs and
changes one thing: unshuffled batches, the MLP and one-convolution baselines, no
dropout, no flips, stride-2 convolutions for max-pooling, RMSNorm or no normalisation
for LRN, no PCA lighting. Each row is a //train:alexnet run in OUT/<row>/; a finished
row is skipped and an unfinished one resumed when the command is run again. Writes
OUT/ablations.md (best validation top-1 of each row, its change from the recipe's row and
the blog's figure for the same change) and OUT/ablations.png (a bar per row).

The blog tuned its learning rate per model; --lr-sweep does the same for the rows that
change the network or its normalisation: each runs once per learning rate (same budget,
same seed, in OUT/<row>/lr-<value>/), is reported at its best, and the table lists the
sweep; a rate whose loss stopped being finite is listed as diverged. A sweep prefixed
with row numbers (8,9:RATES) is for those rows only, so that a row whose best rate sat at
the edge of the common sweep can move on from it in the same table.
The recipe's and the regularisation rows keep the recipe's learning rate.

Every row trains with seed 0. --recipe-seeds=0,1,2 also trains the recipe's row with the
other seeds (in OUT/<row>/seed-<n>/): the table then gives the recipe's spread, reads each
row's change from the recipe's mean over those seeds, and says whether it is larger than
that spread.
"""
import argparse
import os
import statistics
import sys
from pathlib import Path

from tools.runs import RunError, best_top1, diverged, parse_seeds, read_run, train_to_end

# (row, its one change from the recipe, what the blog reported for that change)
ROWS = [
    ("AlexNet, the recipe", [], "78% (60 epochs)"),
    ("batches not shuffled", ["--no-shuffle"], "9.99%"),
    ("MLP", ["--model=mlp"], "about 44%"),
    ("one convolution layer", ["--model=conv1"], "about 55%"),
    ("no dropout", ["--dropout=0"], "about 10 points lower"),
    ("no flips", ["--no-flip"], "about 10 points lower"),
    ("stride-2 convolutions instead of max-pooling", ["--model=alexnet-strideconv"], "4-5 points lower"),
    ("RMSNorm in layers 1-2 instead of LRN", ["--model=alexnet-rmsnorm"], "1-2 points above no normalisation"),
    ("no normalisation", ["--model=alexnet-nolrn"], "1-2 points below RMSNorm"),
    ("no PCA lighting", ["--pca-lighting=0"], "not tried"),
]
# The rows whose learning rate --lr-sweep chooses: they change the network or its normalisation.
SWEPT = {name for name, flags, _ in ROWS if any(flag.startswith("--model=") for flag in flags)}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")


def parse_sweep(text: str) -> tuple[list[int] | None, list[float]]:
    """[ROWS:]RATES: the row numbers it is for (None: every swept row) and at least three
    learning rates spanning at least 4x, as the comparison needs."""
    rows, _, rates_text = text.rpartition(":")
    swept = [number for number, (name, _, _) in enumerate(ROWS, 1) if name in SWEPT]
    numbers = rows.split(",") if rows else []
    if not all(n.isdigit() and int(n) in swept for n in numbers):
        raise argparse.ArgumentTypeError(f"row numbers before ':' must be rows that change the network "
                                         f"({', '.join(map(str, swept))}), got {text!r}")
    try:
        rates = sorted({float(value) for value in rates_text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes comma-separated learning rates, got {text!r}") from None
    if len(rates) < 3 or rates[0] <= 0 or rates[-1] < 4 * rates[0]:
        raise argparse.ArgumentTypeError(f"needs at least three positive learning rates spanning 4x, got {text!r}")
    return ([int(n) for n in numbers] if rows else None), rates


def sweeps_by_row(sweeps: list[tuple[list[int] | None, list[float]]]) -> dict[int, list[float]]:
    """Each swept row's learning rates: its own --lr-sweep if one names it, else the common one."""
    common = [rates for rows, rates in sweeps if rows is None]
    if len(common) > 1:
        raise ValueError("give at most one --lr-sweep without row numbers")
    by_row = {number: common[0] for number, (name, _, _) in enumerate(ROWS, 1) if common and name in SWEPT}
    named = [number for rows, _ in sweeps for number in rows or []]
    if len(named) != len(set(named)):
        raise ValueError(f"a row is named by more than one --lr-sweep: {', '.join(map(str, named))}")
    by_row.update({number: rates for rows, rates in sweeps if rows for number in rows})
    return by_row


def run_swept_row(folder: Path, flags: list[str], common: list[str], rates: list[float]):
    """The row at its best learning rate: (config, metrics, {lr: best top-1, None where it diverged})."""
    run_dirs = {lr: train_to_end(folder / f"lr-{lr:g}", [*common, *flags, f"--lr={lr:g}"], allow_diverged=True)
                for lr in rates}
    runs = {lr: read_run(run_dir) for lr, run_dir in run_dirs.items() if diverged(run_dir) is None}
    if not runs:
        raise RunError(f"{folder}: every learning rate of the sweep diverged ({', '.join(map(str, rates))})")
    sweep = {lr: best_top1(runs[lr][1]) if lr in runs else None for lr in rates}
    config, metrics = runs[max(runs, key=lambda lr: sweep[lr])]
    return config, metrics, sweep


def run_seeded_row(folder: Path, flags: list[str], common: list[str], seeds: list[int]):
    """The row with seed 0 (as every row) and each other seed: (config, metrics, {seed: best top-1})."""
    runs = {seed: read_run(train_to_end(folder if seed == 0 else folder / f"seed-{seed}",
                                        [*common, *flags, f"--seed={seed}"])) for seed in sorted({0, *seeds})}
    config, metrics = runs[0]
    return config, metrics, {seed: best_top1(rows) for seed, (_, rows) in runs.items()}


def table(results: list[tuple[str, dict, list[dict], dict | None]], seeds: dict | None = None) -> str:
    """The ladder in Markdown; with the recipe's seeds, its spread and each row read against it."""
    blog = {name: figure for name, _, figure in ROWS}
    spread = max(seeds.values()) - min(seeds.values()) if seeds else None
    if seeds:  # a row is read against the recipe's mean over seeds, not against its luckiest or unluckiest seed
        reference = statistics.mean(seeds.values())
    else:
        reference = next((best_top1(m) for name, _, m, _ in results if name == ROWS[0][0]), None)
    heading = "change from the recipe's mean" if seeds else "change"
    lines = [f"| variant (one change from the recipe) | best val top-1 | {heading} | beyond the seed spread | the blog | "
             "epochs | epoch-equivalents | model | learning rate | sweep (lr: best top-1) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, config, metrics, sweep in results:
        top1 = best_top1(metrics)
        change = top1 - reference if reference is not None and name != ROWS[0][0] else None
        beyond = "" if change is None or spread is None else ("yes" if abs(change) > spread else "no")
        tried = ", ".join(f"{lr:g}: " + ("diverged" if value is None else f"{value:.1f}%")
                          for lr, value in sweep.items()) if sweep else ""
        # A best rate at the sweep's end says the row's best may lie beyond what was tried.
        edge = " (lowest tried)" if sweep and config["lr"] == min(sweep) else ""
        edge = " (highest tried)" if sweep and config["lr"] == max(sweep) else edge
        shown = f"{change:+.1f}" if change is not None else (f"mean {reference:.1f}%" if seeds else "")
        lines.append(f"| {name} | {top1:.1f}% | {shown} | {beyond} | "
                     f"{blog[name]} | {len(metrics)} | {metrics[-1].get('epoch_equivalents', len(metrics)):.2f} | "
                     f"{config['model']} | {config['lr']:g}{edge} | {tried} |")
    if seeds:
        values = list(seeds.values())
        lines += ["", f"The recipe over seeds {', '.join(map(str, seeds))}: "
                  + ", ".join(f"{value:.1f}%" for value in values)
                  + f"; mean {statistics.mean(values):.1f}%, spread {spread:.1f} points (highest - lowest). "
                  "A row is beyond the spread when its change from the recipe's mean is larger."]
    return "\n".join(lines) + "\n"


def plot(results: list[tuple[str, dict, list[dict]]], path: Path, seeds: dict | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(9, 0.45 * len(results) + 1.2))
    names = [name for name, *_ in results][::-1]
    values = [best_top1(metrics) for _, _, metrics, _ in results][::-1]
    errors = [[0] * len(names), [0] * len(names)]
    if seeds and ROWS[0][0] in names:  # the recipe as its mean over seeds, whiskers from lowest to highest
        mean, at = statistics.mean(seeds.values()), names.index(ROWS[0][0])
        values[at] = mean
        errors[0][at], errors[1][at] = mean - min(seeds.values()), max(seeds.values()) - mean
        names[at] = f"{ROWS[0][0]} ({len(seeds)} seeds)"
    bars = axes.barh(names, values, xerr=errors, capsize=3,
                     color=["tab:orange" if n.startswith(ROWS[0][0]) else "tab:blue" for n in names])
    axes.bar_label(bars, fmt="%.1f%%", fontsize=8, padding=2)
    axes.set(xlabel="best validation top-1, centre crop (%)", xlim=(0, 100), title="one change from the recipe")
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", default="fast", help="the trainer's --recipe every row starts from")
    parser.add_argument("--dataset", default="sample")
    parser.add_argument("--data-dir")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--res-schedule", help="default: the recipe's")
    parser.add_argument("--batch-size", type=int, help="default: the trainer's (128; 32 for the sample)")
    parser.add_argument("--max-steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--only", help="comma-separated row numbers (1-based) to run")
    parser.add_argument("--lr-sweep", type=parse_sweep, action="append", default=[], metavar="[ROWS:]LR,LR,LR",
                        help="learning rates to try for the rows that change the network (>= 3, spanning >= 4x); "
                        "with ROWS: (e.g. 8,9:) for those rows only; may be given again")
    parser.add_argument("--recipe-seeds", type=parse_seeds, metavar="SEED,SEED,...",
                        help="also train the recipe's row with these seeds, to read every row against their spread")
    parser.add_argument("--out", default="runs/ablations")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    common = [f"--recipe={args.recipe}", f"--dataset={args.dataset}", f"--epochs={args.epochs}"]
    optional = {"batch-size": args.batch_size, "res-schedule": args.res_schedule, "data-dir": args.data_dir,
                "max-steps": args.max_steps}
    common += [f"--{flag}={value}" for flag, value in optional.items() if value is not None]
    try:
        sweeps = sweeps_by_row(args.lr_sweep)
    except ValueError as error:
        parser.error(f"--lr-sweep: {error}")
    chosen = [(number, name, flags) for number, (name, flags, _) in enumerate(ROWS, 1)]
    if args.only:
        numbers = args.only.split(",")
        if not all(n.isdigit() and 1 <= int(n) <= len(chosen) for n in numbers):
            parser.error(f"--only takes row numbers from 1 to {len(chosen)}, got {args.only!r}")
        chosen = [chosen[int(n) - 1] for n in numbers]
    if args.recipe_seeds and ROWS[0][0] not in [name for _, name, _ in chosen]:
        parser.error("--recipe-seeds needs the recipe's row: add 1 to --only")
    out = Path(args.out)
    results, seeds = [], None
    for position, (number, name, flags) in enumerate(chosen, 1):
        print(f"[{position}/{len(chosen)}] {name}", flush=True)
        try:
            if args.recipe_seeds and name == ROWS[0][0]:
                config, metrics, seeds = run_seeded_row(out / slug(name), flags, common, args.recipe_seeds)
                results.append((name, config, metrics, None))
            elif number in sweeps:
                results.append((name, *run_swept_row(out / slug(name), flags, common, sweeps[number])))
            else:
                results.append((name, *read_run(train_to_end(out / slug(name), [*common, *flags])), None))
        except RunError as error:
            print(f"ablations: error: {error}", file=sys.stderr)
            return 2
    markdown = table(results, seeds)
    (out / "ablations.md").write_text(markdown)
    plot(results, out / "ablations.png", seeds)
    print(markdown)
    print(f"written: {out / 'ablations.md'}, {out / 'ablations.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
