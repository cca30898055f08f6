"""The dataset contract every family trains on and the evaluator compares against.

A split is held in memory as uint8 ``N x C x H x W`` plus optional labels.  The
datasets ganzoo targets (MNIST-sized to CIFAR-sized) fit easily, and indexing a
tensor is what lets the shared trainer match a hand-written loop's speed.
Models see floats in ``spec.value_range``; the evaluator sees the uint8 images.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

SPLITS = ("train", "test", "all")

#: Fraction of images held out as ``test`` for datasets that ship no split.
TEST_FRACTION = 0.1
#: Seed of the held-out split; fixed so every user gets the same split.
SPLIT_SEED = 20240601


@dataclass(frozen=True)
class DatasetSpec:
    """Shape and value range that models are built for."""

    channels: int
    height: int
    width: int
    num_classes: int | None = None
    value_range: tuple[float, float] = (-1.0, 1.0)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def dims(self) -> int:
        return self.channels * self.height * self.width


@dataclass
class LoadContext:
    """Options a dataset loader may use; ``arg`` is the part after ``name:``."""

    arg: str | None = None
    data_root: Path | None = None
    download: bool = False


class ImageData(torch.utils.data.Dataset):
    """One split of a dataset, in memory."""

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor | None,
        spec: DatasetSpec,
        name: str,
        split: str,
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(
                f"images must be uint8 N x C x H x W, got {images.dtype} {tuple(images.shape)}"
            )
        if tuple(images.shape[1:]) != (spec.channels, spec.height, spec.width):
            raise ValueError(f"images {tuple(images.shape)} do not match spec {spec}")
        self.images = images
        self.labels = labels
        self.spec = spec
        self.name = name
        self.split = split

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        label = int(self.labels[index]) if self.labels is not None else -1
        return self.to_float(self.images[index]), label

    def to_float(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images to float32 in ``spec.value_range``."""
        low, high = self.spec.value_range
        return images.float().mul_((high - low) / 255.0).add_(low)

    def __repr__(self) -> str:
        return f"ImageData({self.name!r}, split={self.split!r}, n={len(self)}, spec={self.spec})"


def to_uint8(images: torch.Tensor, value_range: tuple[float, float] = (-1.0, 1.0)) -> torch.Tensor:
    """Float images in ``value_range`` to uint8, rounding and clamping (inverse of ``to_float``)."""
    low, high = value_range
    scaled = (images.detach().float() - low) * (255.0 / (high - low))
    return scaled.round_().clamp_(0, 255).to(torch.uint8)


def split_indices(n: int, split: str, labels: np.ndarray | None = None) -> np.ndarray:
    """Deterministic held-out split for datasets that ship none.

    10% of the images (per class when labels are known, so the test split is
    balanced) chosen by a fixed-seed permutation; ``train`` is the rest and
    ``all`` is everything, in the original order.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if split == "all":
        return np.arange(n)
    rng = np.random.default_rng(SPLIT_SEED)
    groups = (
        [np.arange(n)]
        if labels is None
        else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    )
    test = []
    for group in groups:
        chosen = rng.permutation(group)[: max(1, round(len(group) * TEST_FRACTION))]
        test.append(chosen)
    test_mask = np.zeros(n, dtype=bool)
    test_mask[np.concatenate(test)] = True
    return np.flatnonzero(test_mask if split == "test" else ~test_mask)
