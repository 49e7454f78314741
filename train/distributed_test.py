"""torchrun with 2 CPU processes (gloo) trains the same network as one process, on one
node or on two with caches of their own, and no cache build waits inside a collective.

With no random augmentation and no dropout, two ranks of 16 images each see the
same 32 images per step as one process of 32, and DDP averages their gradients,
so both runs must agree to float rounding.
"""
import filecmp
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data.prepare import cache_lock

DETERMINISTIC = ["--dataset=sample", "--batch-size=32", "--max-steps=2", "--epochs=2", "--quiet",
                 "--no-random-crop", "--no-flip", "--pca-lighting=0", "--dropout=0", "--precision=fp32",
                 "--model=alexnet-nolrn", "--init=kaiming", "--lr=0.001"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def train(out: Path, processes: int, *extra: str, cache: Path | None = None) -> tuple[list[dict], str]:
    """The run's metrics and what its processes printed."""
    # A static rendezvous on 127.0.0.1: works where the host name does not resolve.
    launcher = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={processes}", "--nnodes=1",
                "--master_addr=127.0.0.1", f"--master_port={free_port()}"] if processes > 1 else [sys.executable]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    command = launcher + ["-m", "train.alexnet", *DETERMINISTIC, *extra, f"--out={out}",
                          f"--cache-dir={cache or out.parent / 'cache'}"]
    done = subprocess.run(command, env=environment, timeout=600, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    (run_dir,) = list(out.iterdir())
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()], done.stdout + done.stderr


def assert_same_training(single: list[dict], double: list[dict]) -> None:
    for one, two in zip(single, double, strict=True):
        for field in ("train_loss", "val_loss"):
            assert two[field] == pytest.approx(one[field], rel=1e-3), field
        assert two["val_top1"] == pytest.approx(one["val_top1"], abs=1 / 80)


def test_two_gloo_processes_match_one_and_build_their_shared_cache_once(tmp_path):
    single, _ = train(tmp_path / "one", 1)
    double, printed = train(tmp_path / "two", 2, cache=tmp_path / "shared-cache")
    assert_same_training(single, double)
    assert printed.count(f"{tmp_path / 'shared-cache' / 'train'}: 120 images") == 1, printed


def test_two_nodes_with_their_own_caches_wait_out_a_slow_build_and_train_as_one(tmp_path):
    """Node 1's cache is held back (its lock taken) for three times the process-group timeout:
    a build inside a collective would end in a timeout; here node 0 waits, and both train.
    A small model: rank 0's checkpoint writes stay well inside the short timeout."""
    port, timeout_s, held_s = free_port(), 5, 15
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    nodes = []
    with cache_lock(tmp_path / "cache-node1"):
        for node in (0, 1):
            command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc_per_node=1",
                       f"--node_rank={node}", "--master_addr=127.0.0.1", f"--master_port={port}",
                       "-m", "train.alexnet", *DETERMINISTIC, "--model=conv1", f"--out={tmp_path / f'runs-node{node}'}",
                       f"--cache-dir={tmp_path / f'cache-node{node}'}", f"--dist-timeout={timeout_s}"]
            nodes.append(subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          text=True))
        time.sleep(held_s)
        assert [node.poll() for node in nodes] == [None, None], "a node gave up while the other's cache was held"
    outputs = [node.communicate(timeout=600)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs
    (run_dir,) = list((tmp_path / "runs-node0").iterdir())
    assert not (tmp_path / "runs-node1").exists()  # rank 0 alone writes the run folder
    two_nodes = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for name in ("train/images.npy", "train/labels.npy", "val/images.npy", "stats.json"):
        assert filecmp.cmp(tmp_path / "cache-node0" / name, tmp_path / "cache-node1" / name, shallow=False), name
    assert_same_training(train(tmp_path / "one", 1, "--model=conv1")[0], two_nodes)


def test_several_processes_without_a_rendezvous_address_get_one_line(tmp_path):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "WORLD_SIZE": "2", "RANK": "0"}
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        environment.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "train.alexnet", *DETERMINISTIC, f"--out={tmp_path / 'runs'}",
                           f"--cache-dir={tmp_path / 'cache'}"], env=environment, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == ("alexnet: error: WORLD_SIZE=2 but MASTER_ADDR and MASTER_PORT "
                                                    "not set: start the processes with torchrun, or set MASTER_ADDR "
                                                    "and MASTER_PORT for every rank")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
