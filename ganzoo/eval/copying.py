"""``--metrics memorization`` inside an evaluation: the training images, the held-out ones, the report.

The statistics themselves are ``memorization``'s (nearest training image,
copy rate, Meehan et al.'s C_T); this module decides what they compare.  The
training images are the run's own training split (``run.json``), or
``--train-dataset`` for folders and ``.npz`` files; the held-out images are the
evaluation's reference, which must not be part of training (a run trained on
``--split all`` has none).  Both spaces are scored: the extractor's features
(FID's layer) and raw pixels, where a copy is a copy whatever a network sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import GanzooError
from .refcache import Reference

#: The result keys, the report's per space: features (the extractor's) and pixels.
KEYS = ("copy_rate", "data_copying_ct", "copy_rate_pixels", "data_copying_ct_pixels")
#: Generated images shown per model, each beside its nearest training image.
GALLERY = 8


def training_split(
    train_dataset: str | None, source: Any, reference: tuple[str, str]
) -> tuple[str, str]:
    """(dataset, split) of the images the model was trained on, refused when unknown or when
    the held-out reference is not held out."""
    from ..data.registry import names_a_path

    if train_dataset is not None:
        dataset, split = train_dataset, "all" if names_a_path(train_dataset) else "train"
    elif source.dataset:
        dataset, split = source.dataset, source.split or "train"
    else:
        raise GanzooError(
            f"--metrics memorization needs the images {source.description} was trained on: "
            "give --train-dataset (e.g. mnist5k, npz:train.npz)"
        )
    if split == "all" and train_dataset is None:
        raise GanzooError(
            f"{source.description} was trained on all of {dataset}, so no image of it is held "
            "out; --metrics memorization needs held-out images (train on --split train)"
        )
    ref_dataset, ref_split = reference
    if ref_dataset == dataset and (split == "all" or ref_split in ("all", split)):
        raise GanzooError(
            f"the reference {ref_dataset}:{ref_split} overlaps the training images "
            f"{dataset}:{split}; memorization compares with held-out images (e.g. --split test)"
        )
    return dataset, split


@dataclass
class CopyScorer:
    """The training and held-out sides of one evaluation, read (and encoded) once."""

    training: Reference
    heldout: Reference
    layer: str
    train_features: torch.Tensor | None = None
    heldout_features: torch.Tensor | None = None

    def read(self, encode: Callable[[torch.Tensor], dict[str, torch.Tensor]]) -> None:
        """Both sides' features of ``layer``: cached, or encoded once and cached."""
        self.train_features = self.training.features((self.layer,), encode)[self.layer]
        self.heldout_features = self.heldout.features((self.layer,), encode)[self.layer]

    def score(
        self, features: dict[str, torch.Tensor], pixels: torch.Tensor
    ) -> tuple[dict[str, float], dict[str, list[float]], dict[str, Any]]:
        """(numbers, intervals, the gallery's pairs) of generated ``features`` and uint8 ``pixels``."""
        from .memorization import memorization

        spaces = {
            "": (self.train_features, self.heldout_features, features[self.layer]),
            "_pixels": tuple(_flat(x) for x in (self.training.images, self.heldout.images, pixels)),
        }
        numbers: dict[str, float] = {}
        intervals: dict[str, list[float]] = {}
        extra: dict[str, Any] = {}
        for suffix, (train, heldout, generated) in spaces.items():
            report = memorization(train, heldout, generated, cells=cells_for(len(generated)))
            numbers.update({f"{k}{suffix}": v for k, v in report.metrics().items()})
            intervals.update({f"{k}{suffix}": v for k, v in report.intervals().items()})
            extra[f"nearest{suffix}"] = [list(p) for p in report.nearest_pairs(GALLERY)]
            extra[f"threshold{suffix}"] = report.threshold
        extra["gallery_png"] = gallery_png(pixels, self.training.images, extra["nearest"])
        return numbers, intervals, extra

    def protocol(self, num_generated: int) -> dict[str, Any]:
        """What the protocol records: the training side and the statistics' settings."""
        return {
            "dataset": self.training.dataset,
            "split": self.training.split,
            "num_images": self.training.num_images(),
            "memorization": {
                **settings(num_generated),
                "spaces": {"features": self.layer, "pixels": "uint8 / 255, flattened"},
            },
        }


def settings(num_generated: int) -> dict[str, Any]:
    """The statistics' settings behind a copy rate and C_T of ``num_generated`` images."""
    from .memorization import CELL_TAU, QUANTILE

    return {
        "quantile": QUANTILE,
        "cells": cells_for(num_generated),
        "cell_tau": CELL_TAU,
        "distance": "euclidean",
    }


def cells_for(num_generated: int) -> int:
    """C_T's k-means cells: the reference's 50 at 3,000+ generated images, fewer below, so
    that a cell expects about three times the 20 generated images it needs to count."""
    from .memorization import CELL_TAU, CELLS

    return max(1, min(CELLS, num_generated // (3 * CELL_TAU)))


def gallery_png(generated: torch.Tensor, training: torch.Tensor, pairs: list[list[Any]]) -> str:
    """The pairs as one PNG (base64): generated images on top, each above its nearest training
    image, enlarged 2x.  It travels inside the result file, so a board shows what was copied
    without the run's images or the dataset at hand."""
    import base64
    import io

    from PIL import Image

    columns = [torch.cat([generated[g], training[t]], dim=1) for g, t, _ in pairs]
    pad = torch.full_like(columns[0][:, :, :2], 255)
    strip = torch.cat([torch.cat([c, pad], dim=2) for c in columns], dim=2)[:, :, :-2]
    strip = strip.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2)
    array = strip.permute(1, 2, 0).numpy()
    image = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _flat(images: torch.Tensor) -> torch.Tensor:
    """uint8 N x C x H x W as N x (C*H*W) floats in [0, 1]: the pixel space."""
    return images.flatten(1).float() / 255
