"""The CUDA paths, run where a GPU is present and skipped (saying so) where not: bf16 training,
the LRN's PyTorch-operations path, nvJPEG decoding, a GPU checkpoint on the CPU, and NCCL."""
import socket
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from data import prepare
from data.augment import AugmentConfig, Augmenter
from data.cache import open_split, read_stats
from eval.loading import load_trained
from model.norms import LocalResponseNorm
from model.registry import create_model
from train import distributed
from train.alexnet import main as train

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here: the CUDA paths are "
                                "checked on a GPU machine (python -m pytest train/cuda_test.py)")
CUDA = torch.device("cuda")


@pytest.fixture(scope="module")
def caches(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for cache_format in ("uint8", "jpeg"):
        out[cache_format] = tmp_path_factory.mktemp(cache_format)
        prepare.build_cache("sample", None, out[cache_format], cache_format, quiet=True)
    return out


def ten_images(cache: Path, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    split = open_split(cache / "train")
    index = [int(np.flatnonzero(split.labels == label)[0]) for label in range(10)]
    images = torch.from_numpy(np.ascontiguousarray(split.images[index])).to(device)
    inputs = Augmenter(read_stats(cache), AugmentConfig(), device).center(images)
    return inputs.contiguous(memory_format=torch.channels_last), torch.from_numpy(split.labels[index]).to(device)


def test_training_steps_in_bf16_give_a_finite_falling_loss(caches):
    inputs, labels = ten_images(caches["uint8"], CUDA)
    torch.manual_seed(0)
    model = create_model("alexnet", 10, init="kaiming").to(CUDA, memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.005, momentum=0.9)
    losses = []
    for _ in range(30):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(inputs).float(), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(np.isfinite(losses)) and np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5]), losses


def lrn_formula(x: torch.Tensor, k=2.0, n=5, alpha=1e-4, beta=0.75) -> torch.Tensor:
    """The paper's: b_i = a_i / (k + alpha * sum over the n channels around i of a_j^2)^beta."""
    squares = F.pad(x.double().pow(2), (0, 0, 0, 0, n // 2, n // 2))
    sums = torch.stack([squares[:, i:i + x.shape[1]] for i in range(n)]).sum(0)
    return x.double() / (k + alpha * sums).pow(beta)


@pytest.mark.parametrize("dtype, tolerance", [(torch.float32, 1e-5), (torch.bfloat16, 1e-2)])
def test_the_lrn_on_cuda_matches_the_formula_and_the_cpu(dtype, tolerance):
    x = torch.randn(4, 96, 27, 27, generator=torch.Generator().manual_seed(0)) * 20
    lrn = LocalResponseNorm()
    on_cuda = lrn(x.to(CUDA, dtype)).double().cpu()
    expected = lrn_formula(x)
    assert torch.allclose(on_cuda, expected, rtol=tolerance, atol=tolerance)
    assert torch.allclose(on_cuda, lrn(x).double(), rtol=tolerance, atol=tolerance)


def test_nvjpeg_decodes_the_jpeg_cache_as_the_cpu_does(caches):
    images = open_split(caches["jpeg"] / "train").images
    index = np.arange(32)
    on_cpu = torch.from_numpy(images[index]).int()
    on_cuda = images.batch(index, CUDA).cpu().int()
    difference = (on_cuda - on_cpu).abs()
    # Decoders may round the IDCT and the chroma upsampling differently: a level or two, rarely more.
    assert difference.float().mean() < 1.0 and difference.max() <= 16, (difference.float().mean(), difference.max())


def test_a_checkpoint_trained_on_cuda_predicts_the_same_classes_on_the_cpu(tmp_path, caches):
    assert train(["--dataset=sample", "--device=cuda", "--epochs=1", "--max-steps=3", "--quiet",
                  f"--cache-dir={caches['uint8']}", f"--out={tmp_path}"]) == 0
    (run,) = list(tmp_path.iterdir())
    torch.load(run / "last.pt", weights_only=True, map_location="cpu")  # no GPU object left in it
    inputs, _ = ten_images(caches["uint8"], torch.device("cpu"))
    with torch.no_grad():
        on_cpu = load_trained(run / "last.pt", torch.device("cpu")).model(inputs)
        on_cuda = load_trained(run / "last.pt", CUDA).model(inputs.to(CUDA)).cpu()
    scale = on_cpu.abs().max()
    assert torch.allclose(on_cuda, on_cpu, atol=0.01 * scale, rtol=0.01)  # cuDNN may use TF32 convolutions
    top2 = on_cpu.topk(2, dim=1).values
    clear = top2[:, 0] - top2[:, 1] > 0.05 * scale  # where the prediction is no near-tie
    assert torch.equal(on_cpu.argmax(1)[clear], on_cuda.argmax(1)[clear])


def test_a_one_process_nccl_group_trains(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(port))
    distributed.start(distributed.Processes(0, 0, 1), "cuda", 120)
    try:
        assert torch.distributed.get_backend() == "nccl"
        torch.manual_seed(0)
        model = create_model("alexnet", 10, init="kaiming").to(CUDA)
        network = torch.nn.parallel.DistributedDataParallel(model, device_ids=[0])
        optimizer = torch.optim.SGD(network.parameters(), lr=0.001, momentum=0.9)
        inputs, labels = torch.randn(8, 3, 128, 128, device=CUDA), torch.arange(8, device=CUDA) % 10
        for _ in range(3):
            loss = F.cross_entropy(network(inputs), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        assert torch.isfinite(loss)
    finally:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-rs"]))
