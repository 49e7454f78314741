"""torchrun: every process's cache is ready before the process group exists.

Building ImageNet's cache takes hours; a collective waits at most the process group's
timeout (torch's defaults: 10 minutes for NCCL, 30 for gloo), and so does creating the
group. So each process prepares its cache first (data/prepare.prepare_cache: one
builder per cache folder, the others wait on its lock), then all processes meet on
torchrun's rendezvous store, where waiting has no such limit, and only then create the
group, with the usual timeout for the training that follows.
"""
import os
import sys
import time
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

# How long a process waits for the others' caches: the slowest node's build, not a hang.
CACHE_WAIT = timedelta(hours=48)


class DistributedError(Exception):
    """A multi-process start that cannot work; the message says why."""


@dataclass(frozen=True)
class Processes:
    rank: int = 0
    local_rank: int = 0
    world: int = 1

    @classmethod
    def from_environment(cls) -> "Processes":
        return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)),
                   int(os.environ.get("WORLD_SIZE", 1)))


def rendezvous_store(processes: Processes) -> dist.Store:
    """torchrun's store (its agent hosts one at MASTER_ADDR:MASTER_PORT); without the agent, rank 0 hosts it."""
    missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if not os.environ.get(name)]
    if missing:
        raise DistributedError(f"WORLD_SIZE={processes.world} but {' and '.join(missing)} not set: start the "
                               "processes with torchrun, or set MASTER_ADDR and MASTER_PORT for every rank")
    agent = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"
    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]),
                          None if agent else processes.world, is_master=not agent and processes.rank == 0,
                          timeout=CACHE_WAIT, wait_for_workers=False)
    return dist.PrefixStore(f"alexnet/attempt_{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}", store)


def wait_for_everyone(store: dist.Store, processes: Processes, what: str, poll_s: float = 1.0) -> None:
    """Returns once all processes have called it; says every 10 minutes how many it still waits for."""
    store.add(what, 1)
    started = last_said = time.monotonic()
    while (ready := store.add(what, 0)) < processes.world:
        if time.monotonic() - started > CACHE_WAIT.total_seconds():
            raise DistributedError(f"waited {CACHE_WAIT} for {processes.world - ready} process(es) to report {what}")
        if processes.rank == 0 and time.monotonic() - last_said > 600:
            print(f"waiting for {processes.world - ready} of {processes.world} processes: {what}",
                  file=sys.stderr, flush=True)
            last_said = time.monotonic()
        time.sleep(poll_s)


def start(processes: Processes, device: str, timeout_s: float | None) -> None:
    """Creates the process group once every process's cache is ready (call after prepare_cache)."""
    backend = "nccl" if torch.cuda.is_available() and device in ("auto", "cuda") else "gloo"
    store = rendezvous_store(processes)
    wait_for_everyone(store, processes, "cache ready")
    timeout = {"timeout": timedelta(seconds=timeout_s)} if timeout_s else {}
    dist.init_process_group(backend, store=store, rank=processes.rank, world_size=processes.world, **timeout)
    if backend == "nccl":
        torch.cuda.set_device(processes.local_rank)
