"""Metrics on any features: two arrays in, ganzoo's numbers and bootstrap intervals out.

For features from elsewhere (another network, a plugin's own encoder, a
paper's released embeddings): ``score_features(real, generated)`` computes
the feature metrics exactly as ``ganzoo eval`` does, with the same functions
(torch-fidelity's for FID, KID and precision/recall; ganzoo's for FID∞ and
density/coverage) and the same bootstrap intervals, so a number computed here
and one on a board differ only in the features.  IS and the class metrics need
a classifier's outputs, not features, and are refused with a line saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import GanzooError
from . import fidelity
from .metrics import SHOWN, parse_metrics
from .replicates import RESAMPLES, SEED
from .replicates import settings as bootstrap_settings
from .uncertainty import bootstrap

#: The metrics computed from two feature sets alone (memorization also needs ``train``).
FEATURE_METRICS = ("fid", "fid_inf", "kid", "prc", "dc", "cmmd", "mem")
#: The one "layer" every metric reads: the arrays given.
LAYER = "features"


@dataclass
class FeatureScores:
    """The numbers (torch-fidelity's result keys), their 95% intervals, and how they were made."""

    metrics: dict[str, float]
    intervals: dict[str, list[float]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    #: result key -> the bootstrap replicates behind its interval (``ganzoo.eval.replicates``).
    replicates: dict[str, list[float]] = field(default_factory=dict)


def score_features(
    real: Any,
    generated: Any,
    metrics: str | tuple[str, ...] = "fid,kid,pr",
    *,
    train: Any = None,
    kid_subset_size: int | None = None,
    intervals: bool = True,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> FeatureScores:
    """Score ``generated`` features against ``real`` ones (N x D arrays, NumPy or torch).

    ``metrics`` as ``ganzoo eval --metrics`` takes them, among fid, fid_inf, kid,
    pr, dc, cmmd and memorization.  Intervals are the bias-corrected percentile
    bootstrap of ``ganzoo eval`` (``resamples`` replicates from ``seed``); FID∞ has none.
    Memorization asks how near ``generated`` sits to the model's ``train``
    features, with ``real`` as the held-out yardstick (real images never trained on).
    """
    chosen = _feature_metrics(metrics)
    fidelity_metrics = tuple(m for m in chosen if m != "mem")
    gen, ref = _as_features(generated, "generated"), _as_features(real, "real")
    if gen.shape[1] != ref.shape[1]:
        raise GanzooError(
            f"the feature arrays differ in width: generated {gen.shape[1]}, real {ref.shape[1]}; "
            "pass features of the same network and layer"
        )
    kid_subset = None
    if "kid" in chosen:
        kid_subset = fidelity.kid_subset_size(kid_subset_size, len(gen), len(ref))
    fidelity.check_sizes(chosen, len(gen), len(ref))
    layers = dict.fromkeys(fidelity_metrics, LAYER)
    gen_side, real_side = {LAYER: gen}, {LAYER: ref}
    numbers = fidelity.compute(fidelity_metrics, layers, gen_side, real_side, kid_subset)
    bounds: dict[str, list[float]] = {}
    kept: dict[str, list[float]] = {}
    if intervals and set(fidelity_metrics) & set(fidelity.BOOTSTRAPPED):
        k = fidelity.PRC_NEIGHBORHOOD
        drawn = bootstrap(
            fidelity_metrics, layers, gen_side, real_side, kid_subset, k, numbers, resamples,
            seed, dc_k=fidelity.DC_NEIGHBORHOOD,
        )  # fmt: skip
        bounds, kept = drawn.intervals, drawn.replicates
    settings = fidelity.settings(chosen, kid_subset)
    if "mem" in chosen:
        settings["memorization"] = _copying(train, ref, gen, numbers, bounds, resamples, seed)
    settings["bootstrap"] = bootstrap_settings(resamples, seed) if intervals else None
    if not intervals:
        bounds = {}
    return FeatureScores(numbers, bounds, settings, kept)


def _copying(train, heldout, generated, numbers, bounds, resamples, seed) -> dict[str, Any]:
    """Copy rate and C_T into ``numbers``/``bounds``, as ``ganzoo eval --metrics memorization``
    computes them on its feature side; their settings as the protocol records them."""
    from .copying import cells_for, settings
    from .memorization import memorization

    if train is None:
        raise GanzooError(
            "memorization compares generated features with the model's training features: "
            "pass train=<features of the training images> (real= are held-out images)"
        )
    train = _as_features(train, "training")
    if train.shape[1] != generated.shape[1]:
        raise GanzooError(
            f"the feature arrays differ in width: generated {generated.shape[1]}, training "
            f"{train.shape[1]}; pass features of the same network and layer"
        )
    report = memorization(
        train, heldout, generated, cells=cells_for(len(generated)), seed=seed, resamples=resamples
    )
    numbers.update(report.metrics())
    bounds.update(report.intervals())
    return settings(len(generated))


def _feature_metrics(metrics: str | tuple[str, ...]) -> tuple[str, ...]:
    chosen = parse_metrics(metrics)
    assert chosen is not None  # parse_metrics returns None only for None
    other = [SHOWN[m] for m in chosen if m not in FEATURE_METRICS]
    if other:
        raise GanzooError(
            f"{', '.join(other)} cannot be computed from features alone (they need a "
            f"classifier's outputs); choose from {', '.join(SHOWN[m] for m in FEATURE_METRICS)}"
        )
    return chosen


def _as_features(array: Any, side: str) -> torch.Tensor:
    """A 2-D, finite float tensor on the CPU (float64 kept; anything else as float32)."""
    if isinstance(array, np.ndarray):
        if array.dtype == object or not np.issubdtype(array.dtype, np.number):
            raise GanzooError(f"the {side} features must be a numeric array, not {array.dtype}")
        array = torch.from_numpy(np.ascontiguousarray(array))
    if not isinstance(array, torch.Tensor):
        raise GanzooError(
            f"the {side} features must be a NumPy array or a torch tensor, not "
            f"{type(array).__name__}"
        )
    if array.ndim != 2:
        raise GanzooError(
            f"the {side} features must be 2-D (images x feature width), got shape "
            f"{tuple(array.shape)}; flatten or pool each image's features first"
        )
    tensor = array.detach().cpu()
    tensor = tensor if tensor.dtype == torch.float64 else tensor.float()
    if not torch.isfinite(tensor).all():
        raise GanzooError(f"the {side} features hold NaN or infinite values")
    return tensor
