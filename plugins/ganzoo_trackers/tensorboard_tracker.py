"""``tensorboard``: the run's scalars, sample grids and results as TensorBoard events.

Events go to ``RUN/tensorboard/``.  A resumed run opens its writer with
``purge_step`` one past the checkpoint it resumed from, so TensorBoard drops
the events the interrupted process logged after that checkpoint, which
training now logs again: every step appears once.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import ganzoo


class TensorBoardTracker(ganzoo.Tracker):
    """Scalars under their own names, grids as images, result numbers as ``results/<key>``."""

    @classmethod
    def check(cls) -> None:
        try:
            import tensorboard  # noqa: F401
        except ImportError:
            raise ganzoo.GanzooError(
                "tracker 'tensorboard' needs the tensorboard package: "
                "pip install 'ganzoo[tensorboard]'"
            ) from None

    def __init__(self, run: ganzoo.TrackerRun) -> None:
        super().__init__(run)
        from torch.utils.tensorboard import SummaryWriter

        purge = run.resumed_from + 1 if run.resumed_from is not None else None
        self.writer = SummaryWriter(str(run.dir / "tensorboard"), purge_step=purge)

    def log_scalars(self, step: int, scalars: dict[str, float]) -> None:
        for key, value in scalars.items():
            self.writer.add_scalar(key, value, step)

    def log_image(self, step: int, tag: str, path: Path) -> None:
        import numpy as np
        from PIL import Image

        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGB"))
        self.writer.add_image(tag, pixels, step, dataformats="HWC")
        self.writer.flush()

    def log_results(self, step: int, results: dict[str, Any], path: Path | None) -> None:
        for key, value in numbers(results.get("metrics")).items():
            self.writer.add_scalar(f"results/{key}", value, step)
        self.writer.flush()

    def finish(self) -> None:
        self.writer.close()


def numbers(metrics: Any) -> dict[str, float]:
    """The finite numbers of a result's ``metrics`` (trackers take floats, not lists)."""
    if not isinstance(metrics, dict):
        return {}
    return {
        key: float(value)
        for key, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    }
