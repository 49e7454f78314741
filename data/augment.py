"""The paper's augmentation, on batches of uint8 images already on the training device.

No PIL and no decoding in the training loop: a batch of (N, 256, 256, 3) uint8
images from the cache becomes (N, 3, 224, 224) normalised floats in a few tensor
operations (one slice per image, one fused pass for lighting and normalisation),
on the CPU or the GPU.

- Random 224x224 crops with an independent random mirror per sample, drawn afresh
  every time (the ImageNet replication fixed each image's flip by its file name).
- PCA lighting (section 4.1): to every pixel add P [a1 s1, a2 s2, a3 s3]^T, with P the
  eigenvectors of the RGB covariance, a_i ~ N(0, 0.1) per image, and s_i the
  standard deviation along each eigenvector (the square root of its eigenvalue), in
  the 0-255 units the statistics were computed in. The paper writes "eigenvalues";
  their square roots are what keeps the noise in pixel units (about 12 levels along
  the first component for Imagenette, as in the widely used fb.resnet.torch values),
  where eigenvalues themselves (pixel^2) would add hundreds of levels.
- Optional brightness jitter and scale-and-crop, which the blog tried.
- Ten-patch extraction (four corners, centre, and their mirrors) for evaluation.
- Lower-resolution training (progressive resizing, as in FFCV's recipes): the crop
  still covers 224/256 of the image, resized to fewer pixels; evaluation stays at 224.
"""
import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

CROP = 224


@dataclass(frozen=True)
class AugmentConfig:
    flip: bool = True
    pca_lighting: float = 0.1  # std of the a_i; 0 turns it off
    brightness: float = 0.0  # scale each image by 1 + U(-b, b); 0 turns it off
    scale_crop: float = 1.0  # smallest crop area as a fraction of the image; 1 keeps plain 224 crops
    random_crop: bool = True  # False: centre crops (deterministic training, for tests and ablations)


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return torch.empty(n).uniform_(low, high, generator=generator)


def _coin(n: int, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=generator) < 0.5


# Random draws come from a CPU generator whatever the device, so a run draws the same
# crops, flips and lighting on the CPU and the GPU, and a resumed run can restore them.

def random_crop_flip(images: torch.Tensor, generator: torch.Generator, flip: bool = True, crop: int = CROP) -> torch.Tensor:
    """(N, H, W, C) -> (N, crop, crop, C): a random window per image, mirrored with probability 1/2."""
    n, height, width, _ = images.shape
    top = torch.randint(0, height - crop + 1, (n,), generator=generator).tolist()
    left = torch.randint(0, width - crop + 1, (n,), generator=generator).tolist()
    mirrored = (_coin(n, generator) & flip).tolist()
    # Slicing copies whole rows of each window: far faster than a per-pixel gather.
    windows = [image[t : t + crop, l : l + crop] for image, t, l in zip(images, top, left)]
    return torch.stack([window.flip(1) if m else window for window, m in zip(windows, mirrored)])


def to_float_nchw(images: torch.Tensor) -> torch.Tensor:
    """(N, H, W, C) uint8 -> (N, C, H, W) float32 in 0-255, in channels_last memory order."""
    return images.permute(0, 3, 1, 2).float()


def random_scale_crop(images: torch.Tensor, generator: torch.Generator, min_area: float, flip: bool = True,
                      crop: int = CROP) -> torch.Tensor:
    """(N, H, W, C) uint8 -> (N, crop, crop, C): a random box of min_area..1 of the image and
    aspect ratio 3/4..4/3 per image, resized to crop with antialiasing and mirrored with
    probability 1/2 (torchvision's RandomResizedCrop + RandomHorizontalFlip, on a batch)."""
    n, height, width, _ = images.shape
    area = _uniform(n, min_area, 1.0, generator) * height * width
    ratio = _uniform(n, math.log(3 / 4), math.log(4 / 3), generator).exp()
    box_w = (area * ratio).sqrt().round().clamp(1, width).int()
    box_h = (area / ratio).sqrt().round().clamp(1, height).int()
    left = (_uniform(n, 0, 1, generator) * (width - box_w + 1)).int().tolist()
    top = (_uniform(n, 0, 1, generator) * (height - box_h + 1)).int().tolist()
    mirrored = (_coin(n, generator) & flip).tolist()
    crops = []
    for image, t, l, h, w, m in zip(images, top, left, box_h.tolist(), box_w.tolist(), mirrored):
        resized = resize(image[t : t + h, l : l + w].permute(2, 0, 1)[None], crop)
        resized = resized.round().clamp(0, 255).to(torch.uint8) if resized.is_floating_point() else resized
        crops.append(resized[0].permute(1, 2, 0).flip(1) if m else resized[0].permute(1, 2, 0))
    return torch.stack(crops)


def lighting_shift(n: int, eigenvalues: torch.Tensor, eigenvectors: torch.Tensor, std: float,
                   generator: torch.Generator) -> torch.Tensor:
    """(n, 3): one RGB shift per image, P [a_i sqrt(lambda_i)], a_i ~ N(0, std)."""
    alphas = (torch.randn(n, 3, generator=generator) * std).to(eigenvalues.device)
    return (alphas * eigenvalues.sqrt()) @ eigenvectors.T


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

    def train(self, images: torch.Tensor, generator: torch.Generator, size: int = CROP) -> torch.Tensor:
        """size: the side of the training crops; below 224 the same 224/256 share of the image, fewer pixels."""
        config = self.config
        if config.scale_crop < 1.0:
            crops = random_scale_crop(images, generator, config.scale_crop, config.flip, crop=size)
        elif config.random_crop:
            crops = random_crop_flip(images, generator, config.flip)
        else:
            crops = center_crop(images)
        x = crops.permute(0, 3, 1, 2)  # (N, 3, 224, 224) uint8 in channels_last order
        if x.shape[-1] != size:
            x = resize(x, size)
        # Lighting and normalisation folded into one per-image, per-channel affine map:
        # (x * factor + shift - mean) / std, a single pass over the pixels.
        shift = torch.zeros(len(images), 3, device=self.mean.device)
        if config.pca_lighting > 0:
            shift = lighting_shift(len(images), self.eigenvalues, self.eigenvectors, config.pca_lighting, generator)
        scale = (1 / self.std).expand(len(images), 3, 1, 1)
        if config.brightness > 0:
            scale = scale * (1 + _uniform(len(images), -config.brightness, config.brightness, generator)
                             .to(scale.device))[:, None, None, None]
        offset = (shift[:, :, None, None] - self.mean) / self.std
        return torch.addcmul(offset, x.float(), scale).contiguous(memory_format=torch.channels_last)

    def center(self, images: torch.Tensor) -> torch.Tensor:
        """The central 224x224 crop, normalised: single-crop evaluation."""
        return self.normalise(to_float_nchw(center_crop(images))).contiguous(memory_format=torch.channels_last)

    def ten_patch(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 256, 256, 3) -> (N, 10, 3, 224, 224) normalised patches."""
        x = self.normalise(to_float_nchw(ten_patches(images).flatten(0, 1)))
        return x.reshape(len(images), 10, *x.shape[1:])

    def whole(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 256, 256, 3) -> (N, 2, 3, 256, 256): the whole image and its mirror, normalised. Training
        crops 224 of the 256 pixels without rescaling, so the whole image shows its objects at the
        training scale, with the border the crops cut off."""
        x = self.normalise(to_float_nchw(torch.stack([images, images.flip(2)], 1).flatten(0, 1)))
        return x.reshape(len(images), 2, *x.shape[1:])


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """(N, 3, H, W) uint8 -> (N, 3, size, size), bilinear with antialiasing: uint8 on the CPU, where
    that kernel is fast, float elsewhere."""
    if x.device.type != "cpu":
        x = x.float()
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


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
