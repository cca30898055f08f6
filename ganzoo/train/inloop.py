"""Evaluation inside training: the run scored every N steps, the best checkpoint kept, early stop.

Each evaluation is ``ganzoo.evaluate`` of the checkpoint just written, in the
same process, under one small fixed protocol (``--eval-metrics``,
``--eval-samples``, the run's default extractor), so its numbers are exactly
what ``ganzoo eval RUN --checkpoint STEP`` with those options gives, and its
result file in ``RUN/eval/`` is one the boards read without rescoring.  The
real images' features come from the on-disk reference cache, computed on the
first evaluation only.  Under torchrun every process samples and encodes its
share (the evaluator's rank-invariant path); rank 0 writes.

What the schedule has seen (every score, the best, the time it took) lives in
``progress.json`` under ``in_loop``, so a resumed run continues it: the same
best, the same patience, and a checkpoint whose evaluation a kill prevented is
evaluated on resume.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from ..errors import GanzooError
from .options import TrainOptions

#: ``--keep-best none``: evaluate, but keep no best checkpoint.
NO_BEST = "none"
#: Board column -> the ``--metrics`` name that measures it (and the result key, lower is better).
COLUMNS: dict[str, tuple[str, str, bool]] = {
    "fid": ("fid", "frechet_inception_distance", True),
    "fid_inf": ("fid_inf", "fid_infinity", True),
    "kid": ("kid", "kernel_inception_distance_mean", True),
    "is": ("isc", "inception_score_mean", False),
    "precision": ("prc", "precision", False),
    "recall": ("prc", "recall", False),
    "density": ("dc", "density", False),
    "coverage": ("dc", "coverage", False),
    "cmmd": ("cmmd", "cmmd", True),
    "intra_fid": ("ifid", "intra_fid", True),
    "accuracy": ("cls", "classification_accuracy", False),
}


class InLoop:
    """The in-loop evaluation schedule of one run; the same state on every rank."""

    def __init__(self, options: TrainOptions, shape: tuple[int, int, int], device: Any) -> None:
        """Everything checked before training writes anything: the metrics, an extractor that
        can score images of ``shape`` with its weights at hand, the ``--keep-best`` metric."""
        from ..eval.api import scorable_metrics
        from ..eval.request import EvalRequest

        self.every = options.eval_every
        self.patience = options.stop_after
        chosen = scorable_metrics(shape, options.eval_metrics, "--eval-metrics")
        self.columns = [c for c, (metric, _, _) in COLUMNS.items() if metric in chosen]
        self.best_column = _best_column(options.keep_best, self.columns, options.eval_metrics)
        if self.patience is not None and self.best_column is None:
            raise GanzooError("--stop-after needs a metric to watch: drop --keep-best none")
        self.request = EvalRequest(
            metrics=options.eval_metrics,
            num_samples=options.eval_samples,
            device=_eval_device(device),
        )
        self.history: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.seconds = 0.0
        self.stopped: dict[str, Any] | None = None

    # ------------------------------------------------------------ schedule

    def due(self, step: int) -> bool:
        return step > 0 and step % self.every == 0

    def pending(self, step: int) -> bool:
        """The checkpoint of ``step`` was written but not evaluated (a kill came between)."""
        return self.due(step) and all(row["step"] != step for row in self.history)

    def should_stop(self) -> bool:
        return self.stopped is not None

    # ------------------------------------------------------------- resume

    def state(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "best": self.best,
            "eval_seconds": round(self.seconds, 3),
            "stopped": self.stopped,
        }

    def restore(self, state: dict[str, Any] | None, step: int) -> None:
        """The schedule as of checkpoint ``step``: what was evaluated after it is forgotten."""
        state = state if isinstance(state, dict) else {}
        rows = state.get("history") if isinstance(state.get("history"), list) else []
        self.history = [r for r in rows if _step_of(r) is not None and _step_of(r) <= step]
        self.seconds = sum(float(row.get("seconds") or 0.0) for row in self.history)
        best = state.get("best") if isinstance(state.get("best"), dict) else None
        same = best and (_step_of(best) or 0) <= step and best.get("metric") == self.best_column
        self.best = best if same else self._best_of(self.history)
        self.stopped = None  # decided again under this run's --stop-after
        if self.history and self.history[-1]["step"] == step:
            self._check_stop(self.history[-1])

    # ---------------------------------------------------------- evaluating

    def evaluate(self, run_dir: Path, step: int, world: Any, device: torch.device) -> dict:
        """Score checkpoint ``step``; rank 0 writes its result file.  Returns the history row.

        The training random state is left as it was, so a run with in-loop
        evaluation trains exactly as one without it.
        """
        from ..eval.api import evaluate
        from ..eval.progress import silenced

        started = time.perf_counter()
        devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), silenced():
            result = evaluate(run_dir, self.request, checkpoint=step, write=False)
        path = result.write(run_dir) if world.is_main else None
        seconds = time.perf_counter() - started
        self.seconds += seconds
        row = {"step": step, "seconds": round(seconds, 3), **_scores(result, self.columns)}
        self.history.append(row)
        self._update_best(row)
        return {"row": row, "result": result.as_dict(), "path": path}

    def _update_best(self, row: dict[str, Any]) -> None:
        if self.best_column is None:
            return
        before = self.best
        if before is None or _better(row, before, self.best_column, margin=False):
            self.best = {
                "step": row["step"],
                "metric": self.best_column,
                **_entry(row, self.best_column),
            }
        self._check_stop(row)

    def _check_stop(self, row: dict[str, Any]) -> None:
        if self.patience is None or self.best is None:
            return
        since = [r for r in self.history if r["step"] > self._last_real_gain()]
        if len(since) >= self.patience:
            self.stopped = {
                "step": row["step"],
                "reason": (
                    f"{len(since)} evaluations without beating the best {self.best_column} "
                    f"({self.best['value']:.4g} at step {self.best['step']}) by more than half "
                    "its interval"
                ),
            }

    def _last_real_gain(self) -> int:
        """The step of the last evaluation that beat the best before it by more than that
        best's interval half width (the first evaluation counts as one)."""
        best, gained = None, 0
        for row in self.history:
            if best is None or _better(row, best, self.best_column, margin=True):
                best, gained = {**_entry(row, self.best_column), "step": row["step"]}, row["step"]
            elif _better(row, best, self.best_column, margin=False):
                best = {**_entry(row, self.best_column), "step": row["step"]}
        return gained

    def _best_of(self, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
        best = None
        for row in rows:
            if self.best_column and (best is None or _better(row, best, self.best_column, False)):
                best = {
                    "step": row["step"],
                    "metric": self.best_column,
                    **_entry(row, self.best_column),
                }
        return best

    def improved(self, row: dict[str, Any]) -> bool:
        return self.best is not None and self.best["step"] == row["step"]

    def line(self, row: dict[str, Any], elapsed: float) -> str:
        """``step 400: fid 12.3 [11.0, 13.7] (best)  eval 3.1s, 6% of wall time``."""
        shown = []
        for column in [*self.columns, "bpd"]:
            value, low_high = row.get(column), row.get(f"{column}_interval")
            if value is None:
                continue
            text = f"{column} {value:.4g}"
            if low_high:
                text += f" [{low_high[0]:.4g}, {low_high[1]:.4g}]"
            shown.append(text)
        best = " (best)" if self.improved(row) and self.best_column else ""
        share = self.seconds / elapsed if elapsed > 0 else 0.0
        return (
            f"step {row['step']}: {', '.join(shown)}{best}  eval {row['seconds']:.1f}s, "
            f"{share:.0%} of wall time"
        )

    def share(self, elapsed: float) -> float:
        return self.seconds / elapsed if elapsed > 0 else 0.0


def eval_scalars(row: dict[str, Any]) -> dict[str, float]:
    """An in-loop evaluation as scalars: ``eval/fid``, ``eval/fid_low``, ``eval/fid_high``..."""
    scalars = {}
    for key, value in row.items():
        if key == "step":
            continue
        if key.endswith("_interval"):
            name = key[: -len("_interval")]
            scalars[f"eval/{name}_low"], scalars[f"eval/{name}_high"] = value
        else:
            scalars[f"eval/{key}"] = value
    return scalars


def _step_of(row: Any) -> int | None:
    """A history row's step, or None for a row a hand edit or damage left unreadable."""
    step = row.get("step") if isinstance(row, dict) else None
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def _scores(result: Any, columns: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in columns:
        _, key, _ = COLUMNS[column]
        value = result.metrics.get(key)
        if value is None or not math.isfinite(value):
            continue
        row[column] = value
        if key in result.intervals:
            row[f"{column}_interval"] = [float(v) for v in result.intervals[key]]
    if result.bits_per_dim is not None:  # likelihood models: held-out bits/dim comes free
        row["bpd"] = result.bits_per_dim
    return row


def _entry(row: dict[str, Any], column: str) -> dict[str, Any]:
    return {"value": row.get(column), "interval": row.get(f"{column}_interval")}


def _better(row: dict[str, Any], best: dict[str, Any], column: str, margin: bool) -> bool:
    """Whether ``row``'s score beats ``best``'s; with ``margin``, by more than half the width
    of the best's interval."""
    value, against = row.get(column), best.get("value")
    if value is None:
        return False
    if against is None:
        return True
    interval = best.get("interval")
    half = (interval[1] - interval[0]) / 2 if margin and interval else 0.0
    lower = COLUMNS[column][2]
    return value < against - half if lower else value > against + half


def _best_column(keep_best: str | None, columns: list[str], metrics: str) -> str | None:
    if keep_best is not None and keep_best.strip().lower() == NO_BEST:
        return None
    if keep_best is None:
        return columns[0] if columns else None
    name = keep_best.strip().lower()
    if name not in columns:
        known = ", ".join(columns) or "none"
        raise GanzooError(
            f"--keep-best {keep_best}: not measured by --eval-metrics {metrics} (it measures "
            f"{known}); add its metric to --eval-metrics or choose one of those"
        )
    return name


def _eval_device(device: Any) -> str:
    """The evaluation's device: the training one (under torchrun, each process's own GPU)."""
    from ..dist.world import launched

    device = torch.device(device)
    if launched():
        return "cuda" if device.type == "cuda" else "cpu"
    return str(device)
