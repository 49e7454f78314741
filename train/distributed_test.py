"""torchrun with 2 CPU processes (gloo) trains the same network as one process.

With no random augmentation and no dropout, two ranks of 16 images each see the
same 32 images per step as one process of 32, and DDP averages their gradients,
so both runs must agree to float rounding.
"""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

DETERMINISTIC = ["--dataset=sample", "--batch-size=32", "--max-steps=2", "--epochs=2", "--quiet",
                 "--no-random-crop", "--no-flip", "--pca-lighting=0", "--dropout=0", "--precision=fp32",
                 "--model=alexnet-nolrn", "--init=kaiming", "--lr=0.001"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def train(out: Path, processes: int) -> list[dict]:
    # A static rendezvous on 127.0.0.1: works where the host name does not resolve.
    launcher = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={processes}", "--nnodes=1",
                "--master_addr=127.0.0.1", f"--master_port={free_port()}"] if processes > 1 else [sys.executable]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    command = launcher + ["-m", "train.alexnet", *DETERMINISTIC, f"--out={out}", f"--cache-dir={out.parent / 'cache'}"]
    subprocess.run(command, check=True, env=environment, timeout=600)
    (run_dir,) = list(out.iterdir())
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_two_gloo_processes_match_one(tmp_path):
    single, double = train(tmp_path / "one", 1), train(tmp_path / "two", 2)
    for one, two in zip(single, double, strict=True):
        for field in ("train_loss", "val_loss"):
            assert two[field] == pytest.approx(one[field], rel=1e-3), field
        assert two["val_top1"] == pytest.approx(one["val_top1"], abs=1 / 80)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
