"""The blog's experiment ladder on a short schedule: one Markdown table and one plot.

    tools/bazel run //tools:ablations -- --dataset=sample --epochs=2
    tools/bazel run //tools:ablations -- --dataset=folder --data-dir ../shared/data/imagenette2-224sq --epochs=10

Each row is a //train:alexnet run in OUT/<row>/; a finished row is skipped and an
unfinished one resumed when the command is run again. Writes OUT/ablations.md (best
validation top-1 of each row, with its epochs, batch size, learning rate, shuffling and
momentum) and OUT/ablations.png (validation top-1 of every row per epoch).
"""
import argparse
import json
import os
import sys
from pathlib import Path

from train import alexnet

PLAIN = ["--dropout=0", "--no-flip", "--pca-lighting=0"]


def rows(batch: int, lr: float) -> list[tuple[str, list[str]]]:
    return [
        ("MLP, unshuffled", ["--model=mlp", "--no-shuffle", *PLAIN]),
        ("MLP", ["--model=mlp", *PLAIN]),
        ("one conv layer", ["--model=conv1", *PLAIN]),
        ("AlexNet, no dropout, no flips", ["--model=alexnet-nodropout", "--no-flip"]),
        ("AlexNet, no flips", ["--no-flip"]),
        ("AlexNet, no dropout", ["--model=alexnet-nodropout"]),
        ("AlexNet (the paper)", []),
        ("AlexNet, no LRN", ["--model=alexnet-nolrn"]),
        ("AlexNet, RMSNorm in layers 1-2", ["--model=alexnet-rmsnorm"]),
        ("AlexNet, stride-2 convolutions for max-pooling", ["--model=alexnet-strideconv"]),
        ("AlexNet, half batch and learning rate", [f"--batch-size={max(batch // 2, 1)}", f"--lr={lr / 2}"]),
        ("AlexNet, double batch and learning rate", [f"--batch-size={batch * 2}", f"--lr={lr * 2}"]),
    ]


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")


def run_row(folder: Path, flags: list[str], common: list[str]) -> Path:
    """The row's run folder, trained to the end (skipped if done, resumed if cut short)."""
    existing = sorted(p for p in folder.glob("*") if (p / "config.json").exists())
    if existing:
        run_dir = existing[-1]
        config = json.loads((run_dir / "config.json").read_text())
        done = len((run_dir / "metrics.jsonl").read_text().splitlines()) if (run_dir / "metrics.jsonl").exists() else 0
        if done >= config["epochs"]:
            return run_dir
        if (run_dir / "last.pt").exists():
            if alexnet.main([f"--resume={run_dir}", "--quiet"]) != 0:
                raise RuntimeError(f"resuming {run_dir} failed")
            return run_dir
    if alexnet.main([*common, *flags, f"--out={folder}", "--quiet"]) != 0:
        raise RuntimeError(f"training {folder.name} failed (see above)")
    return sorted(p for p in folder.glob("*") if (p / "config.json").exists())[-1]


def table(results: list[tuple[str, dict, list[dict]]]) -> str:
    lines = ["| variant | best val top-1 | epochs | batch size | learning rate | shuffled | momentum |",
             "|---|---|---|---|---|---|---|"]
    for name, config, metrics in results:
        best = max(row["val_top1"] for row in metrics)
        lines.append(f"| {name} | {100 * best:.1f}% | {len(metrics)} | {config['batch_size']} | {config['lr']:g} | "
                     f"{'yes' if config['shuffle'] else 'no'} | {config['momentum']:g} |")
    return "\n".join(lines) + "\n"


def plot(results: list[tuple[str, dict, list[dict]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(9, 5))
    for name, _, metrics in results:
        axes.plot([r["epoch"] + 1 for r in metrics], [100 * r["val_top1"] for r in metrics], marker=".", label=name)
    axes.set(xlabel="epoch", ylabel="validation top-1 (%)", title="ablations")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    pyplot.close(figure)


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="sample")
    parser.add_argument("--data-dir")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, help="default: the trainer's (128; 32 for the sample)")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--max-steps", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--only", help="comma-separated row numbers (1-based) to run")
    parser.add_argument("--out", default="runs/ablations")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    batch = args.batch_size or (32 if args.dataset == "sample" else 128)
    common = [f"--dataset={args.dataset}", f"--epochs={args.epochs}", f"--batch-size={batch}", f"--lr={args.lr}"]
    common += [f"--data-dir={args.data_dir}"] if args.data_dir else []
    common += [f"--max-steps={args.max_steps}"] if args.max_steps else []
    chosen = rows(batch, args.lr)
    if args.only:
        numbers = args.only.split(",")
        if not all(n.isdigit() and 1 <= int(n) <= len(chosen) for n in numbers):
            parser.error(f"--only takes row numbers from 1 to {len(chosen)}, got {args.only!r}")
        chosen = [chosen[int(n) - 1] for n in numbers]
    out = Path(args.out)
    results = []
    for number, (name, flags) in enumerate(chosen, 1):
        print(f"[{number}/{len(chosen)}] {name}", flush=True)
        try:
            run_dir = run_row(out / slug(name), flags, common)
        except RuntimeError as error:
            print(f"ablations: error: {error}", file=sys.stderr)
            return 2
        config = json.loads((run_dir / "config.json").read_text())
        metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
        results.append((name, config, metrics))
    markdown = table(results)
    (out / "ablations.md").write_text(markdown)
    plot(results, out / "ablations.png")
    print(markdown)
    print(f"written: {out / 'ablations.md'}, {out / 'ablations.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
