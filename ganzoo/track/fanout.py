"""The trackers of one run: named by ``--tracker``, checked before training, called together.

``jsonl`` (metrics.jsonl) is the run directory's own record and always on; it is
not in this set, since a full disk there must stop training.  Every other tracker
is optional: its failure is reported in one line, once, and it is dropped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import GanzooError, PluginError, did_you_mean, warn
from .base import Tracker, TrackerRun

HOOK = "register_trackers"
#: The tracker that is always on; naming it in --tracker is allowed and changes nothing.
BUILTIN = "jsonl"


def parse_trackers(text: str | None) -> tuple[str, ...]:
    """``"tensorboard, mlflow"`` -> ``("tensorboard", "mlflow")``: names kept in order, once."""
    names = [part.strip().lower() for part in (text or "").split(",")]
    return tuple(dict.fromkeys(n for n in names if n and n != BUILTIN))


def tracker_classes(names: tuple[str, ...]) -> list[type[Tracker]]:
    """The registered class of each name, each checked (library installed, store reachable):
    one line and nothing written when one cannot work."""
    from .. import plugins

    classes = []
    registered = plugins.registry(HOOK)
    for name in names:
        if name not in registered:
            known = [BUILTIN, *sorted(registered)]
            raise GanzooError(
                f"--tracker: unknown tracker {name!r}.{did_you_mean(name, known)} Known "
                f"trackers: {', '.join(known)} (`ganzoo trackers` lists them)."
            )
        try:
            entry = plugins.lookup(HOOK, name, "tracker")
        except PluginError as exc:
            raise GanzooError(f"--tracker: {exc}") from None
        cls = entry.obj
        if not (isinstance(cls, type) and issubclass(cls, Tracker)):
            raise PluginError(
                f"tracker {name!r} of plugin {entry.plugin!r} is not a ganzoo.Tracker subclass"
            )
        cls.check()
        classes.append(cls)
    return classes


class Trackers:
    """Started trackers of one run; each call goes to every one still working."""

    def __init__(
        self,
        names: tuple[str, ...],
        run_dir: Path | None,
        config: dict[str, Any],
        resumed_from: int | None = None,
    ) -> None:
        self.active: list[Tracker] = []
        if run_dir is None or not names:
            return
        for name, cls in zip(names, tracker_classes(names), strict=True):
            run = TrackerRun(name, Path(run_dir), config, resumed_from)
            tracker = self._call(name, "start", cls, run)
            if isinstance(tracker, Tracker):
                tracker.name = name
                self.active.append(tracker)

    def log_scalars(self, step: int, scalars: dict[str, float]) -> None:
        self._each("log_scalars", step, scalars)

    def log_image(self, step: int, tag: str, path: Path) -> None:
        self._each("log_image", step, tag, path)

    def log_results(self, step: int, results: dict[str, Any], path: Path | None) -> None:
        self._each("log_results", step, results, path)

    def finish(self) -> None:
        self._each("finish")
        self.active = []

    def _each(self, method: str, *args: Any) -> None:
        for tracker in list(self.active):
            if self._call(tracker.name, method, getattr(tracker, method), *args) is False:
                self.active.remove(tracker)

    @staticmethod
    def _call(name: str, what: str, function: Any, *args: Any) -> Any:
        """``function(*args)``; on failure one warning and False (the tracker is dropped)."""
        try:
            result = function(*args)
        except Exception as exc:  # a tracker never stops training
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            warn(
                f"tracker {name!r} failed in {what} ({type(exc).__name__}: {first}); "
                "it is switched off for the rest of this run, training goes on"
            )
            return False
        return True if result is None else result


def results_to_run(run_dir: Path, step: int, results: dict[str, Any], path: Path | None) -> None:
    """``ganzoo eval`` of a tracked run: the result goes to the trackers the run was trained
    with too (started again, so MLflow logs into the same run); one that cannot is a warning,
    the result file is written either way."""
    try:
        config = json.loads((Path(run_dir) / "run.json").read_text())
        names = parse_trackers((config.get("options") or {}).get("tracker"))
    except (OSError, ValueError, AttributeError):
        return
    if not names:
        return
    try:
        trackers = Trackers(names, Path(run_dir), config)
    except GanzooError as exc:
        warn(f"the result was not sent to the run's trackers: {exc}")
        return
    trackers.log_results(step, results, path)
    trackers.finish()
