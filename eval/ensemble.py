"""Average the class probabilities of models trained apart: the paper's ensemble.

The paper's best figures average the predictions of five (and seven) similar CNNs. This
averages what //eval:tenpatch saved for each model (probabilities.pt: every validation
image's probabilities, per method) and reports each member beside the average, method by
method. Members are runs that differ in seed or recipe, evaluated on the same images.

    tools/bazel run //eval:tenpatch -- --run RUN_A        # once per member
    tools/bazel run //eval:ensemble -- RUN_A RUN_B RUN_C --out DIR

Each argument is a folder holding probabilities.pt (a run folder, or a tenpatch --out).
Writes ensemble.json and ensemble.md into --out (default: print only).
"""
import argparse
import json
import os
import sys
from pathlib import Path

import torch

from eval import methods
from eval.methods import PROBABILITIES, ProbabilitiesError, error_rates, load_probabilities

# Columns of the table: each method's top-1, then ten patches' top-5.
COLUMNS = (methods.CENTER, methods.TENPATCH, methods.WHOLE, methods.TENPATCH_AND_WHOLE)


class EnsembleError(Exception):
    pass


def load_member(folder: Path) -> dict:
    path = folder / PROBABILITIES
    if not path.is_file():
        raise EnsembleError(f"{folder}: no {PROBABILITIES}; run //eval:tenpatch -- --run {folder} first "
                            "(reports written before commit 78c6b7a have none)")
    try:
        return load_probabilities(path)
    except ProbabilitiesError as error:
        raise EnsembleError(str(error)) from None


def check_comparable(folders: list[Path], members: list[dict]) -> None:
    first = members[0]
    seen = {}
    for folder, member in zip(folders, members):
        if member["checkpoint_sha256"] in seen:
            raise EnsembleError(f"{folder} and {seen[member['checkpoint_sha256']]} hold the same checkpoint: "
                                "an ensemble needs models trained apart")
        seen[member["checkpoint_sha256"]] = folder
        if (member["dataset"], member["classes"]) != (first["dataset"], first["classes"]) \
                or not torch.equal(member["labels"], first["labels"]):
            raise EnsembleError(f"{folder} was evaluated on other images or classes than {folders[0]} "
                                f"({member['dataset']}, {len(member['labels'])} images against "
                                f"{first['dataset']}, {len(first['labels'])})")
        missing = set(first["methods"]) ^ set(member["methods"])
        if missing:
            raise EnsembleError(f"{folder} and {folders[0]} differ in methods ({', '.join(sorted(missing))}): "
                                "evaluate both with the same //eval:tenpatch")


def ensemble(folders: list[Path]) -> dict:
    """Each member's error rates from its saved (fp16) probabilities, and those of their mean."""
    members = [load_member(folder) for folder in folders]
    check_comparable(folders, members)
    labels = members[0]["labels"]

    def rates(probabilities: dict) -> dict:
        return {name: error_rates(p.float(), labels) for name, p in probabilities.items()}

    average = {name: torch.stack([m["methods"][name].float() for m in members]).mean(0)
               for name in members[0]["methods"]}
    return {
        "dataset": members[0]["dataset"],
        "images": len(labels),
        "members": [{"folder": str(folder), "checkpoint": m["checkpoint"], "checkpoint_sha256": m["checkpoint_sha256"],
                     "methods": rates(m["methods"])} for folder, m in zip(folders, members)],
        "ensemble": rates(average),
    }


def table(result: dict) -> str:
    def row(name: str, rates: dict) -> str:
        cells = [f"{100 * (1 - rates[m]['top1_error']):.2f}%" for m in COLUMNS]
        cells.append(f"{100 * (1 - rates[methods.TENPATCH]['top5_error']):.2f}%")
        return f"| {name} | " + " | ".join(cells) + " |"

    lines = [f"# Ensemble of {len(result['members'])} models on {result['dataset']} ({result['images']} images)", "",
             "| model | " + " | ".join(f"{methods.LABELS[c][1]} top-1" for c in COLUMNS) + " | ten patches top-5 |",
             "|---" * (len(COLUMNS) + 2) + "|"]
    lines += [row(f"`{m['folder']}`", m["methods"]) for m in result["members"]]
    lines.append(row("**average of their probabilities**", result["ensemble"]))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path, help="folders holding probabilities.pt")
    parser.add_argument("--out", type=Path, help="folder for ensemble.json and ensemble.md")
    args = parser.parse_args(argv)
    if len(set(args.folders)) < 2:
        parser.error("an ensemble needs at least two different folders")
    try:
        result = ensemble(args.folders)
    except EnsembleError as error:
        print(f"ensemble: error: {error}", file=sys.stderr)
        return 2
    summary = table(result)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "ensemble.json").write_text(json.dumps(result, indent=1))
        (args.out / "ensemble.md").write_text(summary)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
