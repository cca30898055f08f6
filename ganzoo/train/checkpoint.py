"""Checkpoint files: atomic to write, safe to load, easy to find.

A checkpoint is a plain dict of tensors and primitive values, loaded with
``torch.load(weights_only=True)``: a checkpoint from a stranger can never run
code.  Files are ``checkpoints/step-XXXXXXXX.pt``; the highest step is the
latest.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_write
from ..errors import GanzooError

FORMAT = "ganzoo-checkpoint"
FORMAT_VERSION = 1
_NAME = re.compile(r"^step-(\d+)\.pt$")


class CheckpointError(GanzooError):
    """A checkpoint that is missing, corrupt, or not a ganzoo checkpoint."""


def checkpoint_path(directory: Path, step: int) -> Path:
    return directory / f"step-{step:08d}.pt"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (temp file, fsync, rename)."""
    state = {"format": FORMAT, "format_version": FORMAT_VERSION, **state}
    with atomic_write(path) as fh:
        torch.save(state, fh)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint on the CPU, refusing anything but tensors and plain values."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"refusing to load {str(path)!r}: it is not a plain-tensor checkpoint "
            f"(weights_only load failed: {first[:200]})"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CheckpointError(
            f"checkpoint {str(path)!r} is corrupt or truncated ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); delete it to fall back "
            "to an earlier one"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{str(path)!r} is not a ganzoo checkpoint")
    if state.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{str(path)!r} was written by a newer ganzoo (format {state['format_version']}); "
            "upgrade ganzoo to read it"
        )
    return state


def list_checkpoints(directory: str | Path) -> list[tuple[int, Path]]:
    """(step, path) of every checkpoint in ``directory``, oldest first; temp files are ignored."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def prune_checkpoints(directory: Path, keep_last: int) -> None:
    """Delete all but the newest ``keep_last`` checkpoints (0 keeps everything)."""
    if keep_last <= 0:
        return
    for _step, path in list_checkpoints(directory)[:-keep_last]:
        path.unlink(missing_ok=True)
    for stale in directory.glob(".step-*.tmp"):  # left by a kill during a write
        stale.unlink(missing_ok=True)
