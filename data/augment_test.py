"""The paper's augmentation on batched uint8 tensors: crops, independent flips, PCA lighting."""
import sys

import pytest
import torch

from data.augment import (AugmentConfig, Augmenter, center_crop, lighting_shift, random_crop_flip,
                          random_scale_crop, ten_patches)

STATS = {  # Imagenette-like statistics, 0-255 units
    "mean": [116.0, 116.0, 109.0],
    "std": [74.0, 73.0, 78.0],
    "eigenvalues": [15678.6, 1002.8, 332.7],
    "eigenvectors": [[-0.563, -0.720, 0.405], [-0.576, -0.010, -0.818], [-0.593, 0.694, 0.408]],
}


def numbered_images(n: int) -> torch.Tensor:
    """(n, 256, 256, 3) uint8 whose pixel (y, x) holds (y, x, image index) mod 256."""
    y = torch.arange(256)[:, None].expand(256, 256)
    x = torch.arange(256)[None, :].expand(256, 256)
    return torch.stack([torch.stack([y, x, torch.full_like(y, i)], -1) for i in range(n)]).to(torch.uint8)


def test_each_crop_is_a_224_window_of_its_own_image_possibly_mirrored():
    images = numbered_images(16)
    crops = random_crop_flip(images, torch.Generator().manual_seed(0))
    assert crops.shape == (16, 224, 224, 3)
    for i, crop in enumerate(crops):
        rows, cols = crop[:, 0, 0].long(), crop[0, :, 1].long()
        assert torch.equal(rows, torch.arange(rows[0], rows[0] + 224))
        step = cols[1] - cols[0]
        assert abs(step) == 1 and torch.equal(cols, cols[0] + step * torch.arange(224))
        assert torch.all(crop[..., 2] == i)


def test_flips_are_drawn_per_sample_and_per_call():
    images = numbered_images(1).expand(64, -1, -1, -1)
    generator = torch.Generator().manual_seed(0)

    def mirrored(crops: torch.Tensor) -> torch.Tensor:
        return crops[:, 0, 1, 1].long() < crops[:, 0, 0, 1].long()

    first, second = mirrored(random_crop_flip(images, generator)), mirrored(random_crop_flip(images, generator))
    assert 16 < first.sum() < 48  # the same image, mirrored in about half the samples
    assert not torch.equal(first, second)  # and not always the same ones


def test_no_flip_keeps_left_to_right_order():
    crops = random_crop_flip(numbered_images(32), torch.Generator().manual_seed(0), flip=False)
    assert torch.all(crops[:, 0, 1, 1].long() == crops[:, 0, 0, 1].long() + 1)


def test_pca_lighting_moves_pixels_by_a_tenth_of_a_principal_std():
    values, vectors = torch.tensor(STATS["eigenvalues"]), torch.tensor(STATS["eigenvectors"])
    shifts = lighting_shift(4000, values, vectors, 0.1, torch.Generator().manual_seed(0))
    # 0.1 * sqrt(15678.6) = 12.5 pixel levels: visible, as the paper intends, not ~0.5.
    assert (shifts @ vectors[:, 0]).std().item() == pytest.approx(0.1 * values[0].sqrt().item(), rel=0.1)
    assert (shifts @ vectors[:, 2]).std().item() == pytest.approx(0.1 * values[2].sqrt().item(), rel=0.1)


def test_training_batches_shift_every_pixel_of_an_image_alike():
    images = numbered_images(4)
    plain = AugmentConfig(flip=False, random_crop=False, pca_lighting=0.0)
    lit = AugmentConfig(flip=False, random_crop=False, pca_lighting=0.1)
    generator = lambda: torch.Generator().manual_seed(0)
    shift = Augmenter(STATS, lit, "cpu").train(images, generator()) - Augmenter(STATS, plain, "cpu").train(images, generator())
    per_image = shift[:, :, :1, :1].expand_as(shift)
    assert torch.allclose(shift, per_image, atol=1e-4)
    assert shift.abs().amax() > 0.05  # normalised units: a few pixel levels over a std of ~75


def test_train_batches_are_normalised_channels_last_floats():
    augmenter = Augmenter(STATS, AugmentConfig(), "cpu")
    x = augmenter.train(numbered_images(4), torch.Generator().manual_seed(0))
    assert x.shape == (4, 3, 224, 224) and x.dtype == torch.float32
    assert x.is_contiguous(memory_format=torch.channels_last)


def test_scale_crop_and_brightness_give_224_crops():
    augmenter = Augmenter(STATS, AugmentConfig(scale_crop=0.35, brightness=0.2), "cpu")
    assert augmenter.train(numbered_images(3), torch.Generator().manual_seed(0)).shape == (3, 3, 224, 224)


def test_scale_crops_are_zooms_into_their_own_image():
    crops = random_scale_crop(numbered_images(8), torch.Generator().manual_seed(0), min_area=0.35, flip=False)
    assert crops.shape == (8, 224, 224, 3) and crops.dtype == torch.uint8
    for i, crop in enumerate(crops):
        rows = crop[:, 0, 0].int()  # channel 0 holds the source row
        assert torch.all(rows[1:] >= rows[:-1])
        assert rows[-1] - rows[0] >= 0.5 * 224 - 2  # at least sqrt(0.35 * 3/4) of the height
        assert torch.all(crop[..., 2] == i)


def test_ten_patches_are_corners_centre_and_their_mirrors():
    images = numbered_images(2)
    patches = ten_patches(images)
    assert patches.shape == (2, 10, 224, 224, 3)
    assert patches[0, 0, 0, 0, :2].tolist() == [0, 0] and patches[0, 3, 0, 0, :2].tolist() == [32, 32]
    assert torch.equal(patches[:, 4], center_crop(images))
    assert torch.equal(patches[:, 5:], patches[:, :5].flip(3))


def test_ten_patch_batches_normalise_every_patch():
    x = Augmenter(STATS, AugmentConfig(), "cpu").ten_patch(numbered_images(2))
    assert x.shape == (2, 10, 3, 224, 224)


def test_whole_image_views_are_the_uncropped_image_and_its_mirror():
    augmenter = Augmenter(STATS, AugmentConfig(), "cpu")
    x = augmenter.whole(numbered_images(2))
    assert x.shape == (2, 2, 3, 256, 256)
    pixels = x * torch.tensor(STATS["std"]).view(3, 1, 1) + torch.tensor(STATS["mean"]).view(3, 1, 1)
    assert pixels[1, 0, :, 10, 200].round().tolist() == [10, 200, 1]  # image 1, row 10, column 200
    assert pixels[1, 1, :, 10, 55].round().tolist() == [10, 200, 1]  # its mirror: column 255 - 200
    assert torch.equal(x[:, 1], x[:, 0].flip(3))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
