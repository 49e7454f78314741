"""The paper's ten-patch evaluation of a trained model on the validation split.

Each 256x256 validation image gives ten 224 crops (four corners, the centre, and their
mirrors); the network's softmax probabilities are averaged over them (the paper's
method; averaging logits, as the ImageNet replication did, is reported beside it),
and the single centre crop is reported for comparison. Beside them: the whole 256 image
and its mirror (a test size above the training crop's, at the training scale: the
network's adaptive pooling takes any size), alone and added to the ten patches.

    tools/bazel run //eval:tenpatch                 # the newest run under runs/
    tools/bazel run //eval:tenpatch -- --run runs/alexnet-imagenette-20261126-093000
    tools/bazel run //eval:tenpatch -- --checkpoint best.pt --dataset=folder --data-dir DIR

Writes tenpatch.json, tenpatch.md, confusion.txt and confusion.png into the run folder
(or beside the checkpoint, or --out) and prints the summary; probabilities.pt keeps every
image's class probabilities per method (fp16: 0.5 GB for ImageNet's 50,000 images, 0.4 MB
for Imagenette's 3,925), which //eval:ensemble averages over models.
"""
import argparse
import os
import sys
from pathlib import Path

import torch
from tqdm import tqdm

from data.augment import AugmentConfig, Augmenter
from data.batches import BatchLoader
from data.cache import CacheError, open_split
from data.datasets import DATASETS
from data.folders import DataError
from eval.loading import CHECKPOINTS, checkpoint_path, load_trained
from data.prepare import prepare_cache
from eval import methods
from eval.report import confusion_matrix, write_confusion_png, write_reports
from train.checkpoint import CheckpointError
from train.device import DeviceError, autocast_context, pick_device


def view_logits(model, views: torch.Tensor, autocast) -> torch.Tensor:
    """(B, V, 3, H, W) -> (B, V, classes) float logits on the CPU."""
    with autocast:
        logits = model(views.flatten(0, 1).contiguous(memory_format=torch.channels_last))
    return logits.float().reshape(*views.shape[:2], -1).cpu()


@torch.no_grad()
def ten_patch_logits(model, loader: BatchLoader, augmenter: Augmenter, device, autocast, quiet: bool):
    """(N, 10, classes) logits of every validation image's ten patches, (N, 2, classes) of the
    whole image and its mirror, and (N,) labels."""
    patch_logits, whole_logits, all_labels = [], [], []
    for images, labels in tqdm(loader.epoch(0), total=len(loader), desc="ten-patch", unit="batch", disable=quiet):
        images = images.to(device)
        patch_logits.append(view_logits(model, augmenter.ten_patch(images), autocast))
        whole_logits.append(view_logits(model, augmenter.whole(images), autocast))
        all_labels.append(labels)
    return torch.cat(patch_logits), torch.cat(whole_logits), torch.cat(all_labels)


def evaluate(path: Path, dataset: str | None = None, data_dir: str | None = None, cache_dir: str | None = None,
             average: str = "probabilities", batch_size: int = 32, device: str = "auto", precision: str = "auto",
             quiet: bool = False) -> tuple[dict, dict]:
    """The report of the checkpoint at path, and every image's label and class probabilities per
    method. dataset and its folders default to those the model was trained on."""
    device = pick_device(device)
    trained = load_trained(path, device)
    saved = trained.config
    cache_dir = cache_dir or (None if dataset else saved["cache_dir"])
    dataset = dataset or saved["dataset"]
    cache = prepare_cache(dataset, data_dir or saved["data_dir"], cache_dir, quiet, saved.get("cache_format", "uint8"))
    val = open_split(cache / "val")
    if val.classes != trained.classes:
        raise DataError(f"the validation classes ({len(val.classes)}: {val.classes[:3]}...) differ from the "
                        f"checkpoint's ({len(trained.classes)}: {trained.classes[:3]}...)")
    augmenter = Augmenter(trained.stats, AugmentConfig(), device)
    loader = BatchLoader(val, batch_size, shuffle=False, drop_last=False)
    autocast, _, _ = autocast_context(precision, device)
    logits, whole, labels = ten_patch_logits(trained.model, loader, augmenter, device, autocast, quiet)
    # Every method as class probabilities (a softmax keeps the logits' ranking), so that
    # //eval:ensemble can average them over models as the paper averaged its CNNs.
    scores = {
        methods.CENTER: logits[:, 4].softmax(-1),
        methods.TENPATCH: logits.softmax(-1).mean(1),
        methods.TENPATCH_LOGITS: logits.mean(1).softmax(-1),
        methods.WHOLE: whole.softmax(-1).mean(1),
        methods.TENPATCH_AND_WHOLE: torch.cat([logits, whole], 1).softmax(-1).mean(1),
    }
    default = methods.TENPATCH if average == "probabilities" else methods.TENPATCH_LOGITS
    return {
        "checkpoint": str(path),
        "checkpoint_sha256": trained.sha256,
        "model": saved["model"],
        "dataset": dataset,
        "images": len(labels),
        "default": default,
        "methods": {name: methods.error_rates(score, labels) for name, score in scores.items()},
        "classes": trained.classes,
        "names": trained.names,
        "confusion": confusion_matrix(scores[default].argmax(1), labels, len(trained.classes)).tolist(),
    }, {"labels": labels, "probabilities": scores}


def write(result: dict, outputs: dict, out: Path) -> str:
    """The reports, the confusion picture and the probabilities file into out; the Markdown summary."""
    out.mkdir(parents=True, exist_ok=True)
    summary = write_reports(result, out)
    methods.save_probabilities(out / methods.PROBABILITIES, outputs["labels"], outputs["probabilities"],
                               **{key: result[key] for key in methods.PROBABILITY_FIELDS if key in result})
    write_confusion_png(result, out / "confusion.png")
    return summary


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="run folder of //train:alexnet (default: the newest under runs/)")
    parser.add_argument("--checkpoint", help="a checkpoint file instead of --run")
    parser.add_argument("--which", choices=CHECKPOINTS, default="best", help="checkpoint of --run")
    parser.add_argument("--dataset", choices=DATASETS, help="default: the one the model was trained on")
    parser.add_argument("--data-dir")
    parser.add_argument("--cache-dir")
    parser.add_argument("--average", choices=("probabilities", "logits"), default="probabilities")
    parser.add_argument("--batch-size", type=int, default=32, help="images per batch (x12 views)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto",
                        help="auto: bf16 autocast where the device supports it, as in training")
    parser.add_argument("--out", help="folder for the reports (default: the run folder)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f"--batch-size must be at least 1, got {args.batch_size}")
    try:
        path = checkpoint_path(args.run, args.checkpoint, args.which)
        result, outputs = evaluate(path, args.dataset, args.data_dir, args.cache_dir, args.average, args.batch_size,
                                   args.device, args.precision, args.quiet)
    except (DataError, CacheError, CheckpointError, DeviceError) as error:
        print(f"tenpatch: error: {error}", file=sys.stderr)
        return 2
    print(write(result, outputs, Path(args.out or path.parent)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
