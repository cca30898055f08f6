"""The tracker contract: a class with five methods, registered by name from ``register_trackers``.

A plugin registers ``register("name", TrackerClass, description=..., extra=...)``
(``extra``: what to pip install for its library, which ``ganzoo trackers`` shows;
``check`` names it when the library is missing).  For one training run ganzoo then calls, in this order:

1. ``TrackerClass.check()`` before anything is written: raise ``GanzooError`` with one
   line (library missing, store unreachable) and training does not start;
2. ``TrackerClass(run)``: start, given a ``TrackerRun`` (the run directory, run.json's
   contents, the step resumed from and what the tracker saved there last time);
3. ``log_scalars(step, scalars)``, ``log_image(step, tag, path)`` (sample grids, PNG
   files) and ``log_results(step, results, path)`` (an evaluation result and its file)
   as training goes;
4. ``finish()`` when training ends, also when it stops early.

``ganzoo eval`` of a tracked run starts the run's trackers again and calls
``log_results`` then ``finish``.  A tracker that raises is reported in one line
once and not called again; training never stops because of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..files.write import atomic_write_text


@dataclass
class TrackerRun:
    """What a tracker is started with.

    ``resumed_from`` is the checkpoint step training continues from: steps after
    it are logged again, so a tracker that keeps a history drops or skips them.
    None means a new run, or ``ganzoo eval`` of an existing one (whose history
    must then be kept).  ``state`` is what the
    tracker saved with ``save_state`` in an earlier process (e.g. MLflow's run id).
    """

    name: str
    dir: Path
    config: dict[str, Any]
    resumed_from: int | None = None

    @property
    def state_file(self) -> Path:
        return self.dir / "trackers" / f"{self.name}.json"

    @property
    def state(self) -> dict[str, Any]:
        try:
            found = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def save_state(self, state: dict[str, Any]) -> None:
        """Keep ``state`` (JSON) in the run directory for the next process of this run."""
        atomic_write_text(self.state_file, json.dumps(state, indent=2, sort_keys=True) + "\n")


class Tracker:
    """Base class of trackers: every method does nothing until overridden."""

    #: The registered name (set by ganzoo from the registration).
    name: ClassVar[str] = ""

    @classmethod
    def check(cls) -> None:
        """Raise ``GanzooError`` (one line: what is wrong, how to fix it) if this tracker
        cannot work here; called before training writes anything."""

    def __init__(self, run: TrackerRun) -> None:
        self.run = run

    def log_scalars(self, step: int, scalars: dict[str, float]) -> None:
        """Losses every ``--log-every`` steps; in-loop evaluation's numbers as ``eval/<metric>``."""

    def log_image(self, step: int, tag: str, path: Path) -> None:
        """A PNG written at ``step`` (``tag`` is ``samples`` for the sample grid)."""

    def log_results(self, step: int, results: dict[str, Any], path: Path | None) -> None:
        """An evaluation result of the checkpoint of ``step`` (``EvalResult.as_dict()``) and
        the result file it was written to."""

    def finish(self) -> None:
        """Training (or ``ganzoo eval``) is over: flush and close."""
