"""Top-5 classes of images, with readable names and probabilities, from a trained model.

    tools/bazel run //eval:predict -- --run runs/alexnet-imagenette-20261126-093000 photo.jpg more/*.JPEG
    python -m eval.predict --checkpoint best.pt photo.jpg

Each image is preprocessed as in training (shorter side 256, central 256x256) and the
softmax probabilities of its ten patches are averaged, as in //eval:tenpatch.
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

from data import turbo
from data.augment import AugmentConfig, Augmenter
from data.decode import BadImage
from eval.loading import CHECKPOINTS, checkpoint_path, load_trained
from train.checkpoint import CheckpointError
from train.device import DeviceError, pick_device


@torch.no_grad()
def top5(model, augmenter: Augmenter, image: np.ndarray, device) -> tuple[torch.Tensor, torch.Tensor]:
    patches = augmenter.ten_patch(torch.from_numpy(image)[None].to(device))[0]
    probabilities = model(patches.contiguous(memory_format=torch.channels_last)).float().softmax(-1).mean(0)
    return probabilities.topk(min(5, len(probabilities)))


def main(argv: list[str] | None = None) -> int:
    os.chdir(os.environ.get("BUILD_WORKING_DIRECTORY", "."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", nargs="+", help="image files")
    parser.add_argument("--run", help="run folder of //train:alexnet (default: the newest under runs/)")
    parser.add_argument("--checkpoint", help="a checkpoint file instead of --run")
    parser.add_argument("--which", choices=CHECKPOINTS, default="best")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    try:
        device = pick_device(args.device)
        trained = load_trained(checkpoint_path(args.run, args.checkpoint, args.which), device)
    except (CheckpointError, DeviceError) as error:
        print(f"predict: error: {error}", file=sys.stderr)
        return 2
    augmenter = Augmenter(trained.stats, AugmentConfig(), device)
    failed = 0
    for name in args.images:
        path = Path(name)
        try:
            image = turbo.load_256_fastest(path, path.read_bytes())
        except (BadImage, OSError) as error:
            print(f"{path}: cannot read ({error})", file=sys.stderr)
            failed += 1
            continue
        probabilities, indices = top5(trained.model, augmenter, image, device)
        print(path)
        for p, i in zip(probabilities.tolist(), indices.tolist()):
            print(f"  {100 * p:5.1f}%  {trained.names[i]} ({trained.classes[i]})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
