"""The one place ganzoo calls ``torch_fidelity.calculate_metrics``.

Every requested metric is computed in a single call with one named feature
extractor, so each input is encoded once and precision/recall never trigger
torch-fidelity's second (VGG16) pass.  The metrics themselves are torch-fidelity's.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import GanzooError
from .extractors import FeatureExtractorInfo, ResolvedWeights, torch_fidelity_name
from .refcache import ImagesDataset, Reference

#: torch-fidelity settings ganzoo fixes; all are recorded in the protocol.
ISC_SPLITS = 10
KID_SUBSETS = 100
KID_DEFAULT_SUBSET = 1000
PRC_NEIGHBORHOOD = 3
RNG_SEED = 2020


@dataclass(frozen=True)
class Settings:
    extractor: str
    info: FeatureExtractorInfo
    weights: ResolvedWeights
    metrics: tuple[str, ...]
    batch_size: int
    device: torch.device


def kid_subset_size(requested: int | None, num_generated: int, num_real: int) -> int:
    """KID's subset size: as asked (checked), else the largest up to 1000 both sets allow."""
    smallest = min(num_generated, num_real)
    if requested is None:
        if smallest < 2:
            raise GanzooError(f"KID needs at least 2 images per set, got {smallest}")
        return min(KID_DEFAULT_SUBSET, smallest)
    if requested < 2:
        raise GanzooError(f"--kid-subset-size must be at least 2, got {requested}")
    if requested > smallest:
        raise GanzooError(
            f"KID subset size {requested} is larger than the number of images "
            f"({num_generated} generated, {num_real} real); use more samples or a smaller subset size"
        )
    return requested


def calculate(
    generated: torch.Tensor, reference: Reference | None, settings: Settings, kid_subset: int | None
) -> dict[str, float]:
    """torch-fidelity's metrics for uint8 ``generated`` against ``reference``'s cached real images."""
    import torch_fidelity

    metrics = settings.metrics
    binary = any(m in metrics for m in ("fid", "kid", "prc"))
    kwargs = dict(
        input1=ImagesDataset(generated),
        cuda=settings.device.type == "cuda",
        batch_size=settings.batch_size,
        feature_extractor=torch_fidelity_name(settings.extractor, settings.info),
        feature_extractor_weights_path=settings.weights.path,
        isc="isc" in metrics,
        fid="fid" in metrics,
        kid="kid" in metrics,
        prc="prc" in metrics,
        isc_splits=ISC_SPLITS,
        kid_subsets=KID_SUBSETS,
        kid_subset_size=kid_subset or KID_DEFAULT_SUBSET,
        prc_neighborhood=PRC_NEIGHBORHOOD,
        rng_seed=RNG_SEED,
        save_cpu_ram=True,
        verbose=False,
    )
    for metric in metrics:
        kwargs[f"feature_layer_{metric}"] = settings.info.layer(metric)
    if settings.device.type == "cuda" and settings.device.index is not None:
        torch.cuda.set_device(settings.device)
    if not binary:
        return _run(torch_fidelity, kwargs)
    if reference is None:
        raise GanzooError("FID, KID and precision/recall need a reference dataset (--dataset)")
    with reference.staged() as cache_root:
        kwargs.update(
            input2=reference.inputs,
            input2_cache_name=reference.cache_name,
            cache_root=str(cache_root),
        )
        return _run(torch_fidelity, kwargs)


def _run(torch_fidelity: Any, kwargs: dict[str, Any]) -> dict[str, float]:
    with contextlib.redirect_stdout(io.StringIO()):
        result = torch_fidelity.calculate_metrics(**kwargs)
    return {key: float(value) for key, value in result.items()}
