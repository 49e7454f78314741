"""The paper's augmentation, on batches of uint8 images already on the training device.

No PIL and no per-image Python in the training loop: a batch of (N, 256, 256, 3)
uint8 crops from the cache becomes (N, 3, 224, 224) normalised floats in a few
tensor operations, on the CPU or the GPU.

- Random 224x224 crops with an independent random mirror per sample, drawn afresh
  every time (the ImageNet replication fixed each image's flip by its file name).
- PCA lighting (section 4.1): to every pixel add P [a1 s1, a2 s2, a3 s3]^T, with P the
  eigenvectors of the RGB covariance, a_i ~ N(0, 0.1) per image, and s_i the
  standard deviation along each eigenvector (the square root of its eigenvalue), in
  the 0-255 units the statistics were computed in. The paper writes "eigenvalues";
  their square roots are what keeps the noise in pixel units (about 6 levels along
  the first component for Imagenette, as in the widely used fb.resnet.torch values),
  where eigenvalues themselves (pixel^2) would add hundreds of levels.
- Optional brightness jitter and scale-and-crop, which the blog tried.
- Ten-patch extraction (four corners, centre, and their mirrors) for evaluation.
"""
from dataclasses import dataclass

import torch
from torchvision.ops import roi_align

CROP = 224


@dataclass(frozen=True)
class AugmentConfig:
    flip: bool = True
    pca_lighting: float = 0.1  # std of the a_i; 0 turns it off
    brightness: float = 0.0  # scale each image by 1 + U(-b, b); 0 turns it off
    scale_crop: float = 1.0  # smallest crop area as a fraction of the image; 1 keeps plain 224 crops


def random_crop_flip(images: torch.Tensor, generator: torch.Generator, flip: bool = True, crop: int = CROP) -> torch.Tensor:
    """(N, H, W, C) -> (N, crop, crop, C): a random window per image, mirrored with probability 1/2."""
    n, height, width, _ = images.shape
    device = images.device
    top = torch.randint(0, height - crop + 1, (n, 1), generator=generator, device=device)
    left = torch.randint(0, width - crop + 1, (n, 1), generator=generator, device=device)
    offsets = torch.arange(crop, device=device)
    rows, cols = top + offsets, left + offsets
    if flip:
        mirrored = torch.rand(n, 1, generator=generator, device=device) < 0.5
        cols = torch.where(mirrored, cols.flip(1), cols)
    batch = torch.arange(n, device=device)[:, None, None]
    return images[batch, rows[:, :, None], cols[:, None, :]]


def to_float_nchw(images: torch.Tensor) -> torch.Tensor:
    """(N, H, W, C) uint8 -> (N, C, H, W) float32 in 0-255, in channels_last memory order."""
    return images.permute(0, 3, 1, 2).float()


def random_scale_crop(images: torch.Tensor, generator: torch.Generator, min_area: float, crop: int = CROP) -> torch.Tensor:
    """(N, C, H, W) float -> (N, C, crop, crop): a random box of min_area..1 of the image and
    aspect ratio 3/4..4/3 per image, resized to crop (RandomResizedCrop, batched)."""
    n, _, height, width = images.shape
    device = images.device
    area = torch.empty(n, device=device).uniform_(min_area, 1.0, generator=generator) * height * width
    log_ratio = torch.empty(n, device=device).uniform_(-0.2877, 0.2877, generator=generator)  # ln(3/4), ln(4/3)
    box_w = (area * log_ratio.exp()).sqrt().clamp(max=width)
    box_h = (area / log_ratio.exp()).sqrt().clamp(max=height)
    x0 = torch.rand(n, generator=generator, device=device) * (width - box_w)
    y0 = torch.rand(n, generator=generator, device=device) * (height - box_h)
    boxes = torch.stack([torch.arange(n, device=device, dtype=images.dtype), x0, y0, x0 + box_w, y0 + box_h], 1)
    return roi_align(images, boxes.to(images.dtype), (crop, crop), aligned=True, sampling_ratio=2)


def pca_lighting(images: torch.Tensor, eigenvalues: torch.Tensor, eigenvectors: torch.Tensor, std: float,
                 generator: torch.Generator) -> torch.Tensor:
    """Adds P [a_i sqrt(lambda_i)] to every pixel of each (N, 3, H, W) image, a_i ~ N(0, std)."""
    alphas = torch.randn(len(images), 3, generator=generator, device=images.device) * std
    shift = (alphas * eigenvalues.sqrt()) @ eigenvectors.T  # (N, 3): one RGB shift per image
    return images + shift[:, :, None, None]


def brightness(images: torch.Tensor, amount: float, generator: torch.Generator) -> torch.Tensor:
    factor = 1 + torch.empty(len(images), device=images.device).uniform_(-amount, amount, generator=generator)
    return images * factor[:, None, None, None]


class Augmenter:
    """Turns uint8 (N, 256, 256, 3) batches into normalised (N, 3, 224, 224) float batches.

    stats: the cache's stats.json (channel mean/std and RGB eigen-decomposition, 0-255 units).
    """

    def __init__(self, stats: dict, config: AugmentConfig, device: torch.device | str):
        self.config = config
        self.mean = torch.tensor(stats["mean"], device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(stats["std"], device=device).view(1, 3, 1, 1)
        self.eigenvalues = torch.tensor(stats["eigenvalues"], device=device).clamp(min=0)
        self.eigenvectors = torch.tensor(stats["eigenvectors"], device=device)

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        return (images - self.mean) / self.std

    def train(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        config = self.config
        if config.scale_crop < 1.0:
            x = random_scale_crop(to_float_nchw(images), generator, config.scale_crop)
            if config.flip:
                mirrored = torch.rand(len(x), generator=generator, device=x.device) < 0.5
                x = torch.where(mirrored[:, None, None, None], x.flip(3), x)
        else:
            x = to_float_nchw(random_crop_flip(images, generator, config.flip))
        if config.pca_lighting > 0:
            x = pca_lighting(x, self.eigenvalues, self.eigenvectors, config.pca_lighting, generator)
        if config.brightness > 0:
            x = brightness(x, config.brightness, generator)
        return self.normalise(x).contiguous(memory_format=torch.channels_last)

    def center(self, images: torch.Tensor) -> torch.Tensor:
        """The central 224x224 crop, normalised: single-crop evaluation."""
        return self.normalise(to_float_nchw(center_crop(images))).contiguous(memory_format=torch.channels_last)

    def ten_patch(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 256, 256, 3) -> (N, 10, 3, 224, 224) normalised patches."""
        patches = ten_patches(images)
        n = len(images)
        x = self.normalise(to_float_nchw(patches.flatten(0, 1)))
        return x.reshape(n, 10, *x.shape[1:])


def center_crop(images: torch.Tensor, crop: int = CROP) -> torch.Tensor:
    _, height, width, _ = images.shape
    top, left = (height - crop) // 2, (width - crop) // 2
    return images[:, top : top + crop, left : left + crop]


def ten_patches(images: torch.Tensor, crop: int = CROP) -> torch.Tensor:
    """(N, H, W, C) -> (N, 10, crop, crop, C): four corners and the centre, then their mirrors."""
    _, height, width, _ = images.shape
    corners = [(0, 0), (0, width - crop), (height - crop, 0), (height - crop, width - crop)]
    patches = [images[:, t : t + crop, l : l + crop] for t, l in corners] + [center_crop(images, crop)]
    patches = torch.stack(patches, 1)
    return torch.cat([patches, patches.flip(3)], 1)
