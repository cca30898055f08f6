"""``ganzoo.evaluate``: score a run, a checkpoint, a model or a set of samples under a recorded protocol."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from ..device import resolve_device
from ..errors import GanzooError, warn
from . import fidelity, sources
from .extractors import (
    DERIVED,
    FeatureExtractorInfo,
    ResolvedWeights,
    default_extractor,
    get_extractor,
)
from .plan import Plan
from .protocol import EvalResult
from .request import EvalRequest
from .safeload import private_copy

ALIASES = {"is": "isc", "isc": "isc", "fid": "fid", "kid": "kid", "pr": "prc", "prc": "prc"}
ALIASES["fid_inf"] = "fid_inf"
#: The order metrics are listed in everywhere.
ORDER = ("isc", "fid", "fid_inf", "kid", "prc")
DEFAULT_DATASET = "mnist5k"
#: Each metric as users name it (--metrics is,fid,kid,pr).
SHOWN = {"isc": "is", "fid": "fid", "fid_inf": "fid_inf", "kid": "kid", "prc": "pr"}


def parse_metrics(metrics: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """``"is,fid"`` or ``["is", "fid"]`` -> ``("isc", "fid")`` in canonical order; None = default."""
    if metrics is None:
        return None
    names = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    chosen = set()
    for name in (n.strip().lower() for n in names):
        if not name:
            continue
        if name not in ALIASES:
            raise GanzooError(f"unknown metric {name!r}; choose from is, fid, fid_inf, kid, pr")
        chosen.add(ALIASES[name])
    if not chosen:
        raise GanzooError("no metrics requested; choose from is, fid, fid_inf, kid, pr")
    return tuple(m for m in ORDER if m in chosen)


def evaluate(
    target: Any,
    request: EvalRequest | None = None,
    *,
    checkpoint: int | None = None,
    write: bool = True,
    **options: Any,
) -> EvalResult:
    """Score ``target`` (run dir, checkpoint, ``Model``, sample folder, ``.npz`` or uint8 tensor).

    ``options`` are the fields of ``EvalRequest`` (``metrics="fid"``, ``seeds=3``,
    ...), applied over ``request``.  Everything is validated before any feature
    is computed, and the result is written (run targets only,
    ``RUN/eval/<protocol-hash>.json``) only after every number exists, so a
    failure leaves nothing behind.
    """
    base = dataclasses.asdict(request) if request is not None else {}
    request = EvalRequest.of({**base, **options})
    request.check()
    device = resolve_device(request.device)
    source, (name, info, resolved, chosen) = _inputs(target, request, checkpoint, device)
    dataset = request.dataset or source.dataset or DEFAULT_DATASET
    split = request.reference_split
    with private_copy(resolved, name) as weights:
        plan = Plan(source, dataset, split, name, info, weights, chosen)
        plan.count(
            request.num_samples, request.num_real, request.kid_subset_size, request.data_root
        )
        settings = fidelity.Settings(name, info, weights, chosen, request.batch_size, device)
        seed_list = [request.seed + i for i in range(request.seeds)] if source.has_model else []
        per_seed, intervals = _compute(plan, settings, seed_list)
    bpd = _bits_per_dim(source, dataset, split, request, device) if source.has_model else None
    protocol = plan.protocol(seed_list, request.batch_size, device, bpd is not None)
    label = str(target) if not isinstance(target, torch.Tensor) else "tensor"
    result = EvalResult(label, *_mean_and_spread(per_seed), per_seed, bpd, protocol)
    result.intervals = intervals
    if write and source.run_dir is not None:
        result.write(source.run_dir)
    return result


def _inputs(
    target: Any, request: EvalRequest, checkpoint: int | None, device: torch.device
) -> tuple[sources.Source, tuple[str, FeatureExtractorInfo, ResolvedWeights, tuple[str, ...]]]:
    """What is scored, and by which extractor and weights (checked before any data loads)."""
    requested = parse_metrics(request.metrics)
    weights = request.extractor_weights
    early = (
        _extractor_and_weights(request.extractor, None, weights, requested)
        if request.extractor
        else None
    )
    source = sources.resolve(target, checkpoint=checkpoint, device=device, use_ema=request.ema)
    if not source.has_model and request.seeds > 1:
        raise GanzooError("--seeds needs a model to sample from; fixed samples have no seed")
    chosen = early or _extractor_and_weights(None, _compared_shape(source), weights, requested)
    return source, chosen


def _mean_and_spread(per_seed: list[dict[str, float]]) -> tuple[dict, dict]:
    keys = list(per_seed[0])
    means = {k: statistics.fmean(r[k] for r in per_seed) for k in keys}
    stds = {
        k: statistics.stdev([r[k] for r in per_seed]) if len(per_seed) > 1 else 0.0 for k in keys
    }
    return means, stds


def _compared_shape(source: sources.Source) -> tuple[int, int, int]:
    """The source's image shape, with RGB samples that are really gray counted as gray."""
    shape = source.shape()
    if source.images is not None and shape[0] == 3 and _is_gray(source.images):
        return (1, *shape[1:])
    return shape


def _extractor_and_weights(
    extractor: str | None,
    shape: tuple[int, int, int] | None,
    user_weights: str | None,
    requested: tuple[str, ...] | None,
) -> tuple[str, FeatureExtractorInfo, ResolvedWeights, tuple[str, ...]]:
    """The extractor, its weights, and the metrics they can serve (checked before any data loads)."""
    name = extractor or default_extractor(shape)
    info = get_extractor(name)
    weights = info.weights(user_weights)
    if requested is None:
        return name, info, weights, info.supported_metrics(weights)
    for metric in requested:
        if metric in weights.unsupported:
            raise GanzooError(weights.unsupported[metric])
        if DERIVED.get(metric, metric) not in info.layers:
            served = ", ".join(SHOWN[m] for m in info.supported_metrics(weights)) or "nothing"
            raise GanzooError(
                f"feature extractor {name!r} has no layer for {SHOWN[metric]}; it serves {served}"
            )
    return name, info, weights, requested


def _compute(
    plan: Plan, settings: fidelity.Settings, seed_list: list[int]
) -> tuple[list[dict[str, float]], dict[str, list[float]]]:
    """torch-fidelity's numbers once per sampling seed (once for fixed samples), and the
    bootstrap intervals of the first seed's."""
    source = plan.source
    scorer = fidelity.Scorer(settings, plan.reference)
    if not source.has_model:
        numbers, intervals = scorer.score(source.images[: plan.n_gen], plan.kid_subset, True)
        return [numbers], intervals
    results, intervals = [], {}
    for i, s in enumerate(seed_list):
        images = sources.generate(source.model, plan.n_gen, s, source.spec.value_range)
        numbers, bounds = scorer.score(images, plan.kid_subset, intervals=i == 0)
        results.append(numbers)
        intervals = intervals or bounds
    return results, intervals


def evaluate_all_checkpoints(
    run_dir: str | Path, request: EvalRequest | None = None, **options: Any
) -> list[EvalResult]:
    """One result per checkpoint of a run, oldest first: a metric curve over training.

    A damaged checkpoint is skipped with a warning naming it, so one bad file
    does not cost the rest of the curve; if none is readable that is an error.
    """
    from ..train.checkpoint import CheckpointError, list_checkpoints

    found = list_checkpoints(Path(run_dir) / "checkpoints")
    if not found:
        raise GanzooError(f"run directory {str(run_dir)!r} has no checkpoints")
    results, damaged = [], []
    for step, path in found:
        try:
            results.append(evaluate(run_dir, request, checkpoint=step, **options))
        except CheckpointError as exc:
            warn(f"skipping {exc}")
            damaged.append(path.name)
    if not results:
        raise GanzooError(f"every checkpoint in {str(run_dir)!r} is damaged: {', '.join(damaged)}")
    if damaged:
        warn(f"{len(damaged)} of {len(found)} checkpoints skipped as damaged: {', '.join(damaged)}")
    return results


def _is_gray(images: torch.Tensor) -> bool:
    return torch.equal(images[:, 0], images[:, 1]) and torch.equal(images[:, 0], images[:, 2])


def _bits_per_dim(
    source: Any, dataset: str, split: str, request: EvalRequest, device: torch.device
) -> float | None:
    """Mean held-out bits/dim for likelihood models; None for models without a likelihood."""
    from ..data.registry import load_dataset
    from ..model import Batch, eval_mode

    data = load_dataset(dataset, split, data_root=request.data_root)
    total, count = 0.0, 0
    # A VAE's bound samples its latents: a fixed seed makes the number reproducible, and
    # fork_rng keeps the caller's random state untouched.
    devices = [device] if device.type == "cuda" else []
    with torch.no_grad(), eval_mode(source.model), torch.random.fork_rng(devices=devices):
        torch.manual_seed(request.seed)
        for start in range(0, len(data), request.batch_size):
            x = data.to_float(data.images[start : start + request.batch_size]).to(device)
            values = source.model.bits_per_dim(Batch(x))
            if values is None:
                return None
            total += float(values.double().sum())
            count += values.numel()
    return total / max(count, 1)
