"""Checkpoints that survive a kill at any moment and restore a run exactly.

A checkpoint is one dict of tensors and plain values (loadable with
torch.load(weights_only=True)): model, optimizer, scheduler and grad-scaler
states, the epoch, the best validation error, every random generator's state,
and the config. It is written to a temporary file, fsynced, then renamed over
the old one, so the previous checkpoint stays whole until the new one is.
"""
import errno
import os
import pickle
import shutil
from pathlib import Path

import torch


class CheckpointError(Exception):
    pass


def rng_states(augment_generator: torch.Generator) -> dict:
    states = {"torch": torch.get_rng_state(), "augment": augment_generator.get_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng(states: dict, augment_generator: torch.Generator) -> None:
    torch.set_rng_state(states["torch"])
    augment_generator.set_state(states["augment"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save(state: dict, path: Path) -> None:
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "wb") as file:
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except (OSError, RuntimeError) as error:
        temporary.unlink(missing_ok=True)
        needed, free = checkpoint_bytes(state), shutil.disk_usage(path.parent).free
        # torch's zip writer reports a full disk as a RuntimeError ("unexpected pos ..."), not ENOSPC.
        if getattr(error, "errno", None) == errno.ENOSPC or (isinstance(error, RuntimeError) and free < needed):
            reason = f"the disk is full ({needed / 1e6:.0f} MB needed, {free / 1e6:.0f} MB free in {path.parent})"
        else:
            reason = first_line(error)
        raise CheckpointError(f"could not write {path}: {reason}; the previous checkpoint is kept") from None


def first_line(error: Exception) -> str:
    """An exception in one line: torch's messages run to many."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def checkpoint_bytes(state) -> int:
    """Roughly the bytes torch.save writes for state: its tensors' storage."""
    if isinstance(state, torch.Tensor):
        return state.numel() * state.element_size()
    if isinstance(state, dict):
        return sum(checkpoint_bytes(value) for value in state.values())
    if isinstance(state, (list, tuple)):
        return sum(checkpoint_bytes(value) for value in state)
    return 0


def link(source: Path, target: Path) -> None:
    """Makes target the same file as source (best.pt as last.pt) without writing it twice.

    The next save of source renames a new file over it, so target keeps this content.
    """
    temporary = target.with_name(target.name + ".tmp")
    temporary.unlink(missing_ok=True)
    os.link(source, temporary)
    os.replace(temporary, target)


def load(path: Path, device: torch.device | str = "cpu") -> dict:
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError:  # weights_only refused a class or function: never run it
        raise CheckpointError(f"{path} is not a checkpoint of this project: it holds objects other than tensors, "
                              "refused without running them") from None
    except Exception as error:  # a truncated or foreign file: say which, not a traceback
        reason = f"{type(error).__name__}: {first_line(error)}"
        raise CheckpointError(f"{path} is not a readable checkpoint ({reason})") from None
