"""``jsonl``: ganzoo's own tracker, ``RUN/metrics.jsonl``, one JSON object a row; always on.

It follows the tracker contract like any other, but it is the run directory's
record (resume and the boards read it), so a full disk or a read-only folder
stops training with one line naming the file and the checkpoint that is
intact, where another tracker's failure is only reported.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from ..files.write import UnwritableError, atomic_write_text
from .base import Tracker, TrackerRun

FILE = "metrics.jsonl"


class JsonlTracker(Tracker):
    """Rows ``{"step": ..., **scalars}`` appended to ``metrics.jsonl`` and flushed each time."""

    name = "jsonl"

    def __init__(self, run: TrackerRun, redo_eval: bool = False) -> None:
        """On resume the rows logged after the resumed checkpoint go (they are logged again),
        and with ``redo_eval`` the evaluation rows of that very step too."""
        super().__init__(run)
        self.path = run.dir / FILE
        self.file = None
        step = run.resumed_from or 0
        try:
            drop_rows_after(self.path, step, eval_at=step if redo_eval else None)
            self.file = open(self.path, "a")  # noqa: SIM115  (closed in finish)
        except OSError as exc:
            raise UnwritableError(self.path, exc) from None

    def log_scalars(self, step: int, scalars: dict[str, float]) -> None:
        self._write(json.dumps({"step": step, **scalars}) + "\n")

    def _write(self, line: str) -> None:
        try:
            self.file.write(line)
            self.file.flush()
        except OSError as exc:
            failed, self.file = self.file, None
            with contextlib.suppress(OSError):  # its buffer cannot be written either
                failed.close()
            raise UnwritableError(self.path, exc) from None

    def finish(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def drop_rows_after(path: Path, step: int, eval_at: int | None = None) -> None:
    """Remove rows logged after ``step`` (a resume from there logs those steps again), and the
    ``eval/`` rows of step ``eval_at`` (an evaluation redone on resume).

    Without this a run killed between checkpoints holds two rows for the same
    step.  The file is rewritten atomically; a torn last line (a kill during a
    write) goes too.
    """
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return
    kept = [line for line in lines if _kept(_row(line), step, eval_at)]
    if kept != lines:
        atomic_write_text(path, "".join(line + "\n" for line in kept))


def _kept(row: dict[str, Any] | None, step: int, eval_at: int | None) -> bool:
    if row is None or row["step"] > step:
        return False
    return not (row["step"] == eval_at and any(k.startswith("eval/") for k in row))


def _row(line: str) -> dict[str, Any] | None:
    try:
        row = json.loads(line)
        row["step"] = int(row["step"])
    except (ValueError, KeyError, TypeError):
        return None
    return row
