"""What a training run tells the user: a progress display, metrics.jsonl, TensorBoard, sample grids."""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch

from ..errors import GanzooError, warn
from ..files.write import UnwritableError, atomic_write, atomic_write_text
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
    """Writes metrics to ``metrics.jsonl`` (and TensorBoard when installed) and shows progress.

    A full disk or a read-only run folder is one line naming ``metrics.jsonl`` and
    the checkpoint that is intact (a resume drops the rows logged after it).
    """

    def __init__(
        self, run_dir: Path | None, total_steps: int, start_step: int, quiet: bool = False
    ):
        self.run_dir = run_dir
        self.total = total_steps
        self.quiet = quiet
        self.metrics_file = None
        if run_dir is not None:
            try:
                drop_rows_after(run_dir / "metrics.jsonl", start_step)
                self.metrics_file = open(run_dir / "metrics.jsonl", "a")  # noqa: SIM115
            except (OSError, UnwritableError) as exc:
                raise self._unwritable(exc) from None
        self.tb = _tensorboard(run_dir) if run_dir else None
        self.bar = None
        self.t0 = time.perf_counter()
        self.last_time = self.t0
        self.last_step = start_step
        if not quiet and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total_steps, initial=start_step, unit="step", dynamic_ncols=True)

    def log(self, step: int, scalars: dict[str, float], elapsed: float | None = None) -> None:
        """One row; ``elapsed`` is the run's training time so far (continued across resumes)."""
        now = time.perf_counter()
        rate = (step - self.last_step) / max(now - self.last_time, 1e-9)
        self.last_step, self.last_time = step, now
        seconds = now - self.t0 if elapsed is None else elapsed
        record = {"step": step, "time": round(seconds, 3), "steps_per_s": round(rate, 3)}
        record.update({k: round(v, 6) for k, v in scalars.items()})
        if self.metrics_file:
            self._write(json.dumps(record) + "\n")
        if self.tb:
            for key, value in scalars.items():
                self.tb.add_scalar(key, value, step)
        if self.quiet:
            return
        shown = "  ".join(f"{k}={v:.4g}" for k, v in scalars.items())
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

    def _write(self, line: str) -> None:
        try:
            self.metrics_file.write(line)
            self.metrics_file.flush()
        except OSError as exc:
            failed, self.metrics_file = self.metrics_file, None
            with contextlib.suppress(OSError):  # its buffer cannot be written either
                failed.close()
            raise self._unwritable(exc) from None

    def _unwritable(self, exc: OSError | UnwritableError) -> UnwritableError:
        if isinstance(exc, OSError):
            exc = UnwritableError(self.run_dir / "metrics.jsonl", exc)
        return unwritable_in_run(self.run_dir, exc)

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
        if self.metrics_file:
            self.metrics_file.close()
        if self.tb:
            self.tb.close()


def drop_rows_after(path: Path, step: int) -> None:
    """Remove rows logged after ``step``: a resume from there logs those steps again.

    Without this a run killed between checkpoints holds two rows for the same
    step.  The file is rewritten atomically; a torn last line (a kill during a
    write) goes too.
    """
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return
    kept = [line for line in lines if _row_step(line) is not None and _row_step(line) <= step]
    if kept != lines:
        atomic_write_text(path, "".join(line + "\n" for line in kept))


def _row_step(line: str) -> int | None:
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return None


def _what(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return f"a tensor of shape {tuple(shape)}" if shape is not None else f"a {type(value).__name__}"


def _tensorboard(run_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except Exception:  # tensorboard is an optional extra
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))


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
