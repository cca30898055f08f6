"""What a training run tells the user: a progress display, its trackers (metrics.jsonl and\n``--tracker``'s), sample grids."""

from __future__ import annotations

import math
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch

from ..device import busy_cpu
from ..errors import GanzooError, warn
from ..files.write import UnwritableError, atomic_write
from ..track.base import TrackerRun
from ..track.fanout import Trackers
from ..track.jsonl import JsonlTracker
from .checkpoint import unwritable_in_run


class Meter:
    """Mean of each logged scalar since the last flush, named ``<phase>/<metric>``.

    The trainer logs each phase's loss itself as ``<phase>/loss``.  A metric a
    model already names ``<phase>/...`` is kept as it is (``D/acc`` from phase
    ``D`` stays ``D/acc``, not ``D/D/acc``); one that would take the loss's name
    is dropped with a warning (once per process), since it would average with it.
    """

    warned: set[tuple[str, str]] = set()

    def __init__(self, model: str = "model") -> None:
        self.model = model
        self.sums: dict[str, torch.Tensor | float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, phase: str, loss: torch.Tensor | float, logs: dict[str, Any]) -> None:
        """Accumulate; tensors stay on their device until ``flush`` (no sync per step)."""
        self._add(f"{phase}/loss", loss)
        for key, value in logs.items():
            name = key if key.startswith(f"{phase}/") else f"{phase}/{key}"
            if name == f"{phase}/loss":
                if (self.model, name) not in Meter.warned:
                    Meter.warned.add((self.model, name))
                    warn(
                        f"model {self.model!r} logs {key!r} from phase {phase!r}, the name of the "
                        "loss the trainer logs itself; its value is dropped (rename the metric)"
                    )
                continue
            self._add(name, self._number(key, phase, value))

    def _number(self, key: str, phase: str, value: Any) -> torch.Tensor | float:
        try:
            if isinstance(value, torch.Tensor):
                if value.numel() != 1 or value.is_complex():
                    raise ValueError
                return value.detach().float().reshape(())
            return float(value)
        except (TypeError, ValueError, RuntimeError):
            raise GanzooError(
                f"model {self.model!r}, phase {phase!r}: metric {key!r} is {_what(value)}; "
                "log floats or 0-d tensors"
            ) from None

    def _add(self, name: str, value: torch.Tensor | float) -> None:
        self.sums[name] = self.sums[name] + value
        self.counts[name] += 1

    def flush(self) -> dict[str, float]:
        means = {k: float(self.sums[k]) / self.counts[k] for k in self.sums}
        self.sums.clear()
        self.counts.clear()
        return means


class RunLogger:
    """Shows progress and sends every row to the run's trackers: ``metrics.jsonl`` (``jsonl``,
    always on) and those named by ``--tracker``.

    A full disk or a read-only run folder is one line naming ``metrics.jsonl`` and
    the checkpoint that is intact (a resume drops the rows logged after it); any
    other tracker failing is reported once and training goes on.
    """

    def __init__(
        self,
        run_dir: Path | None,
        total_steps: int,
        start_step: int,
        quiet: bool = False,
        trackers: Trackers | None = None,
        redo_eval: bool = False,
    ):
        self.run_dir = run_dir
        self.total = total_steps
        self.quiet = quiet
        self.trackers = trackers or Trackers((), None, {})
        self.jsonl = None
        if run_dir is not None:
            try:
                run = TrackerRun("jsonl", run_dir, {}, start_step)
                self.jsonl = JsonlTracker(run, redo_eval=redo_eval)
            except UnwritableError as exc:
                raise unwritable_in_run(run_dir, exc) from None
        self.bar = None
        self.t0 = time.perf_counter()
        self.last_time = self.t0
        self.last_step = start_step
        self.shown_eval = ""
        if not quiet and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total_steps, initial=start_step, unit="step", dynamic_ncols=True)

    def log(self, step: int, scalars: dict[str, float], elapsed: float | None = None) -> None:
        """One row; ``elapsed`` is the run's training time so far (continued across resumes)."""
        now = time.perf_counter()
        rate = (step - self.last_step) / max(now - self.last_time, 1e-9)
        self.last_step, self.last_time = step, now
        seconds = now - self.t0 if elapsed is None else elapsed
        record = {"time": round(seconds, 3), "steps_per_s": round(rate, 3)}
        record.update({k: round(v, 6) for k, v in scalars.items()})
        self._row(step, record)
        if self.quiet:
            return
        shown = "  ".join(f"{k}={v:.4g}" for k, v in scalars.items()) + self.shown_eval
        if self.bar is not None:
            self.bar.update(step - self.bar.n)
            self.bar.set_postfix_str(shown, refresh=False)
        else:
            eta = (self.total - step) / rate if rate > 0 else math.inf
            eta_text = f"{eta / 60:.1f}m" if math.isfinite(eta) else "?"
            print(
                f"step {step}/{self.total}  {rate:.1f} steps/s  eta {eta_text}  {shown}",
                file=sys.stderr,
                flush=True,
            )

    def evaluated(
        self, step: int, scalars: dict[str, float], result: dict, path: Path | None
    ) -> None:
        """An in-loop evaluation: its row, its result to the trackers, its numbers in the
        progress line from now on."""
        self._row(step, scalars)
        self.trackers.log_results(step, result, path)
        shown = [
            f"{k[5:]}={v:.4g}"
            for k, v in scalars.items()
            if k.startswith("eval/") and not k.endswith(("_low", "_high", "/seconds"))
        ]
        self.shown_eval = "".join(f"  {text}" for text in shown)

    def image(self, step: int, path: Path) -> None:
        self.trackers.log_image(step, "samples", path)

    def _row(self, step: int, record: dict[str, float]) -> None:
        if self.jsonl is not None:
            try:
                self.jsonl.log_scalars(step, record)
            except UnwritableError as exc:
                raise unwritable_in_run(self.run_dir, exc) from None
        self.trackers.log_scalars(step, record)

    def message(self, text: str) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.jsonl is not None:
            self.jsonl.finish()
        self.trackers.finish()


def banner(trainer: Any, resumed_from: int | None) -> list[str]:
    """What a run says before its first step: what trains on what, where, and from where."""
    where = f" -> {trainer.run_dir}" if trainer.run_dir is not None else ""
    lines = [
        f"training {trainer.model.name} ({trainer.model.num_parameters():,} parameters) on "
        f"{trainer.run_info['dataset']} [{len(trainer.data)} images] for {trainer.options.steps} "
        f"steps, batch {trainer.batch_size}, device {trainer.device}{where}"
    ]
    if trainer.world.distributed:
        share = trainer.batch_size // trainer.world.size
        lines.append(f"{trainer.world.size} processes, {share} images each per step")
    if resumed_from is not None:
        lines.append(f"resumed from step {resumed_from}")
    if trainer.device.type == "cpu" and trainer.options.threads is None:
        lines += filter(None, [busy_cpu(torch.get_num_threads())])
    if trainer.step >= trainer.options.steps:
        lines.append(
            f"already trained for {trainer.step} steps (>= --steps {trainer.options.steps})"
        )
    return lines


def _what(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return f"a tensor of shape {tuple(shape)}" if shape is not None else f"a {type(value).__name__}"


def save_grid(
    images: torch.Tensor, value_range: tuple[float, float], path: Path, per_row: int | None = None
) -> None:
    """A PNG grid of float images in ``value_range``, written atomically: ``per_row`` images
    a row (one class a row for conditional models), else square-ish."""
    from torchvision.utils import make_grid

    from ..data.base import to_uint8

    nrow = per_row or max(1, int(math.ceil(math.sqrt(images.shape[0]))))
    grid = make_grid(to_uint8(images.cpu(), value_range), nrow=nrow, padding=2, pad_value=255)
    from PIL import Image

    array = grid.permute(1, 2, 0).numpy()
    image = Image.fromarray(array[:, :, 0] if images.shape[1] == 1 else array)
    try:
        with atomic_write(path) as fh:
            image.save(fh, format="PNG")
    except UnwritableError as exc:
        run_dir = path.parent.parent  # RUN/samples/step-XXXXXXXX.png: say what is intact
        if path.parent.name == "samples" and (run_dir / "run.json").is_file():
            raise unwritable_in_run(run_dir, exc) from None
        raise
