"""Checkpoint files: atomic to write, safe to load, easy to find.

A checkpoint is a plain dict of tensors and primitive values, loaded with
``torch.load(weights_only=True)``: a checkpoint from a stranger can never run
code.  Files are ``checkpoints/step-XXXXXXXX.pt``; the highest step is the
latest, and ``choose_checkpoint`` is the one rule every command follows to pick one.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import GanzooError, warn
from ..files.write import UnwritableError, atomic_write

FORMAT = "ganzoo-checkpoint"
FORMAT_VERSION = 1
_NAME = re.compile(r"^step-(\d+)\.pt$")
#: ``--checkpoint best``: the checkpoint in-loop evaluation scored best (``--keep-best``).
BEST = "best"
BEST_FILE = "best.pt"


class CheckpointError(GanzooError):
    """A checkpoint that is missing, corrupt, or not a ganzoo checkpoint."""


def checkpoint_path(directory: Path, step: int) -> Path:
    return directory / f"step-{step:08d}.pt"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (temp file, fsync, rename).

    A full disk or an unwritable folder is an ``UnwritableError`` naming ``path``
    (the temp file is removed), not torch's ``RuntimeError: [enforce fail at
    inline_container.cc]``: torch's writer swallows the ``OSError`` of the failed
    write and fails later on a position check, so the error is kept on the way
    through and raised in its place.
    """
    state = {"format": FORMAT, "format_version": FORMAT_VERSION, **state}
    with atomic_write(path) as fh:
        out = _Recording(fh)
        try:
            torch.save(state, out)
        except RuntimeError:
            if out.error is None:
                raise
            raise out.error from None


class _Recording:
    """A binary file whose first failed write is remembered (torch.save streams into it)."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh
        self.error: OSError | None = None

    def write(self, data: Any) -> int:
        try:
            return self.fh.write(data)
        except OSError as exc:
            self.error = self.error or exc
            raise

    def flush(self) -> None:
        self.fh.flush()


def unwritable_in_run(run_dir: Path, exc: UnwritableError) -> UnwritableError:
    """``exc`` for a file of the run in ``run_dir``: which checkpoint is intact and how to go on.

    Every file of a run is written atomically, so a full disk or a read-only
    folder leaves the last checkpoint whole, and the same command resumes from it
    once there is room (or permission) again.
    """
    fix = "free some space" if exc.full else f"make {str(exc.path.parent)!r} writable"
    found = list_checkpoints(run_dir / "checkpoints")
    if not found:
        return exc.advise(f"no checkpoint was written yet; {fix} or choose another --out")
    last = str(found[-1][1])
    return exc.advise(
        f"the last checkpoint, {last!r}, is intact: {fix} and run the same command again "
        "to resume from it"
    )


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint on the CPU, refusing anything but tensors and plain values."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(
            f"refusing checkpoint {str(path)!r}: it holds Python objects other than tensors, "
            "which could run code when loaded (ganzoo checkpoints never do)"
        ) from None
    except Exception:  # torch raises many types for a damaged file; the user needs only this
        raise CheckpointError(
            f"checkpoint {str(path)!r} is damaged (truncated, or not a checkpoint file)"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {str(path)!r} is damaged (not a ganzoo checkpoint)")
    if state.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{str(path)!r} was written by a newer ganzoo (format {state['format_version']}); "
            "upgrade ganzoo to read it"
        )
    return state


@dataclass
class Chosen:
    """A readable checkpoint, and the damaged newer ones passed over to reach it."""

    step: int
    path: Path
    state: dict[str, Any]
    skipped: list[Path] = field(default_factory=list)


def choose_checkpoint(directory: str | Path, step: int | str | None = None) -> Chosen | None:
    """The checkpoint every command uses: ``step`` exactly (``"best"``: ``best.pt``), else the
    newest readable one.

    A requested checkpoint that is damaged is an error.  Without a request,
    damaged newer checkpoints are passed over with a warning naming each; when
    every checkpoint is damaged that is an error too.  None: no checkpoints at all.
    """
    if step == BEST:
        return _best(Path(directory))
    found = list_checkpoints(directory)
    if step is not None:
        paths = dict(found)
        if step not in paths:
            steps = ", ".join(str(s) for s, _ in found) or "none"
            raise CheckpointError(
                f"no checkpoint at step {step} in {str(directory)!r}; available: {steps}"
            )
        return Chosen(step, paths[step], load_checkpoint(paths[step]))
    skipped: list[tuple[Path, CheckpointError]] = []
    for found_step, path in reversed(found):
        try:
            state = load_checkpoint(path)
        except CheckpointError as exc:
            skipped.append((path, exc))
            continue
        for _, exc in skipped:
            warn(f"skipping {exc}; using {path.name} instead")
        return Chosen(found_step, path, state, [bad for bad, _ in skipped])
    if skipped:
        names = ", ".join(bad.name for bad, _ in skipped)
        raise CheckpointError(
            f"every checkpoint in {str(directory)!r} is unusable ({names}); the newest: {skipped[0][1]}"
        )
    return None


def _best(directory: Path) -> Chosen:
    path = directory / BEST_FILE
    if not path.is_file():
        raise CheckpointError(
            f"no best checkpoint in {str(directory)!r}: a run keeps one when trained with "
            "--eval-every N (and --keep-best METRIC); give a step instead"
        )
    state = load_checkpoint(path)
    return Chosen(int(state["step"]), path, state)


def keep_as_best(path: Path) -> Path:
    """``best.pt`` beside ``path``, made from it atomically: a hard link when the file system
    allows one (no copy of the bytes), else a copy."""
    best = path.parent / BEST_FILE
    tmp = path.parent / f".{BEST_FILE}.tmp"
    try:
        tmp.unlink(missing_ok=True)
        try:
            os.link(path, tmp)
        except OSError:
            shutil.copyfile(path, tmp)
        os.replace(tmp, best)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UnwritableError(best, exc) from None
    return best


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
    """Delete all but the newest ``keep_last`` checkpoints (0 keeps everything).

    Damaged checkpoints found on resume were renamed ``*.pt.damaged`` and are never touched.
    """
    if keep_last <= 0:
        return
    stale = directory.glob(".step-*.tmp")  # left by a kill during a write
    for path in [*(p for _, p in list_checkpoints(directory)[:-keep_last]), *stale]:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:  # a folder made read-only meanwhile
            raise UnwritableError(path, exc, "delete") from None
