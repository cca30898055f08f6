"""The sample grids of a run: the same noise every time, so grids compare over training."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import torch

from ..sampling.draw import class_rows, draw_samples
from .logger import save_grid

#: Seed offset of the fixed noise behind every sample grid, so grids are comparable over time.
GRID_SEED_OFFSET = 7_919


def sample(trainer: Any, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
    """``n`` images from a fixed seed, with EMA weights when enabled; leaves all RNG untouched."""
    devices = [trainer.device] if trainer.device.type == "cuda" else []
    ema = trainer.ema.applied(trainer.model) if trainer.ema else contextlib.nullcontext()
    with torch.random.fork_rng(devices=devices), ema:
        return draw_samples(trainer.model, n, torch.Generator().manual_seed(seed), labels)


def save_samples(trainer: Any, path: Path) -> None:
    """The grid of ``num_samples`` images; a conditional model's has one row per class."""
    model, options = trainer.model, trainer.options
    n, labels, per_row = options.num_samples, None, None
    if model.conditional:
        classes = model.spec.num_classes
        per_row = max(1, n // classes)
        labels = class_rows(list(range(classes)), per_row)
        n = len(labels)
    images = sample(trainer, n, options.seed + GRID_SEED_OFFSET, labels)
    save_grid(images, trainer.data.spec.value_range, path, per_row)
