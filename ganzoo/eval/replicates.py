"""Bootstrap replicates, kept, and drawn so that two models' replicates pair up.

``uncertainty.bootstrap`` computes them; this module (no torch: leaderboards
read it) says how they are drawn and how an interval is read from them.

An interval per model says how far one number would move with other images;
whether two models differ is a question about their *difference*, which
``ganzoo.eval.paired`` answers from the replicates kept here.  For that every
model scored under one protocol must resample the real side identically, and
each its generated side on its own:

* the real indices of replicate i come from a stream seeded by (bootstrap
  seed, real-image count, i) alone, so replicate i of every model compares
  against the same resample of the real features, and the real images'
  share of the noise cancels in a difference;
* the generated indices come from a stream seeded by (bootstrap seed, a
  fingerprint of the generated features, i): another model's images, or a
  second draw of the same model, get an independent stream, while the same
  images always get the same draws (``ganzoo.score_features`` on the features
  draws exactly what ``ganzoo.evaluate`` drew from the images).

The fingerprint is the positions of the 8 largest and 8 smallest feature-row
sums (and the number of rows), not a hash of the bytes: features encoded in
other batch sizes differ by float rounding (~1e-7), which changes every byte
hash but does not reorder the extreme rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: Replicates per evaluation, the seed of their streams, and the intervals' level.
RESAMPLES = 100
SEED = 0
LEVEL = 0.95
#: Recorded in ``settings.bootstrap``: results pair up only when drawn by the same scheme.
SCHEME = "paired-1"
STREAMS = (
    "real indices of replicate i from (seed, real-image count, i); generated indices from "
    "(seed, fingerprint of the generated features, i)"
)
#: The metrics whose replicates are kept (torch-fidelity's result keys), in display order.
KEPT = (
    "frechet_inception_distance",
    "kernel_inception_distance_mean",
    "precision",
    "recall",
    "density",
    "coverage",
    "cmmd",
)
#: Values a metric cannot leave, so no interval does either.
BOUNDS = {
    "frechet_inception_distance": (0.0, np.inf),
    "precision": (0.0, 1.0),
    "recall": (0.0, 1.0),
    "density": (0.0, np.inf),
    "coverage": (0.0, 1.0),
    "cmmd": (0.0, np.inf),
}
_GENERATED, _REAL = 1, 2  # which stream: part of each stream's seed
_EXTREMES = 8


@dataclass
class Bootstrap:
    """The replicates of each metric (result key -> floats) and their 95% intervals."""

    replicates: dict[str, list[float]]
    intervals: dict[str, list[float]]


def settings(resamples: int = RESAMPLES, seed: int = SEED) -> dict[str, Any]:
    """How the intervals were drawn, as the protocol records it (``settings.bootstrap``)."""
    return {
        "resamples": resamples,
        "seed": seed,
        "level": LEVEL,
        "scheme": SCHEME,
        "streams": STREAMS,
    }


def fingerprint(features: torch.Tensor) -> int:
    """A 64-bit number that names a set of generated features, unmoved by float rounding."""
    sums = features.double().sum(1).cpu().numpy()
    order = np.argsort(sums, kind="stable").tolist()
    marks = [len(order), *order[:_EXTREMES], *order[-_EXTREMES:]]
    digest = hashlib.sha256(json.dumps(marks).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def streams(
    seed: int, mark: int, num_real: int, replicate: int
) -> tuple[np.random.Generator, np.random.Generator]:
    """(generated, real) random streams of one replicate; each draws its indices first."""
    generated = np.random.default_rng([seed, _GENERATED, mark, replicate])
    return generated, np.random.default_rng([seed, _REAL, num_real, replicate])


def fingerprint_layer(metrics: tuple[str, ...], layers: dict[str, str]) -> str:
    """The layer whose features name the generated set: the first bootstrapped metric's."""
    return next(layers[m] for m in ("fid", "kid", "prc", "dc", "cmmd") if m in metrics)


def interval(
    values: list[float], estimate: float, bounds: tuple[float, float] = (-np.inf, np.inf)
) -> list[float]:
    """Bias-corrected percentile interval: the replicates' percentiles shifted by their mean's
    offset from ``estimate`` (resampling with repeats raises FID and KID by itself), clipped."""
    tail = (1 - LEVEL) / 2 * 100
    shift = float(np.mean(values)) - estimate
    low, high = (float(np.percentile(values, q)) - shift for q in (tail, 100 - tail))
    return [max(low, bounds[0]), min(high, bounds[1])]
