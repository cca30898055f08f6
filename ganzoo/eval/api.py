"""``ganzoo.evaluate``: score a run, a checkpoint, a model or a set of samples under a recorded protocol."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from ..data.registry import names_a_path
from ..device import resolve_device
from ..errors import GanzooError, warn
from . import fidelity, sources
from .extractors import (
    METRICS,
    FeatureExtractorInfo,
    ResolvedWeights,
    default_extractor,
    get_extractor,
)
from .plan import Plan
from .protocol import EvalResult
from .safeload import private_copy

ALIASES = {"is": "isc", "isc": "isc", "fid": "fid", "kid": "kid", "pr": "prc", "prc": "prc"}
DEFAULT_DATASET = "mnist5k"


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
            raise GanzooError(f"unknown metric {name!r}; choose from is, fid, kid, pr")
        chosen.add(ALIASES[name])
    if not chosen:
        raise GanzooError("no metrics requested; choose from is, fid, kid, pr")
    return tuple(m for m in METRICS if m in chosen)


def evaluate(
    target: Any,
    *,
    dataset: str | None = None,
    split: str | None = None,
    metrics: str | Iterable[str] | None = None,
    extractor: str | None = None,
    num_samples: int | None = None,
    num_real: int | None = None,
    seeds: int = 1,
    seed: int = 0,
    batch_size: int = 64,
    device: str | torch.device | None = "cpu",
    checkpoint: int | None = None,
    use_ema: bool | None = None,
    inception_weights: str | None = None,
    kid_subset_size: int | None = None,
    data_root: str | Path | None = None,
    write: bool = True,
) -> EvalResult:
    """Score ``target`` (run dir, checkpoint, ``Model``, sample folder, ``.npz`` or uint8 tensor).

    Everything is validated before any feature is computed, and the result is
    written (run targets only, ``RUN/eval/<protocol-hash>.json``) only after
    every number exists, so a failure leaves nothing behind.  ``split`` defaults
    to ``test``, or to ``all`` when ``dataset`` names a file (``npz:``/``folder:``).
    """
    requested = parse_metrics(metrics)
    _check_counts(seeds, batch_size, num_samples, num_real)
    device = resolve_device(device)
    user_weights = inception_weights
    early = _extractor_and_weights(extractor, None, user_weights, requested) if extractor else None
    source = sources.resolve(target, checkpoint=checkpoint, device=device, use_ema=use_ema)
    if not source.has_model and seeds > 1:
        raise GanzooError("--seeds needs a model to sample from; fixed samples have no seed")
    name, info, resolved, chosen = early or _extractor_and_weights(
        None, _compared_shape(source), user_weights, requested
    )
    split = reference_split(dataset, split)
    dataset = dataset or source.dataset or DEFAULT_DATASET
    with private_copy(resolved, name) as weights:
        plan = Plan(source, dataset, split, name, info, weights, chosen)
        plan.count(num_samples, num_real, kid_subset_size, data_root)
        settings = fidelity.Settings(
            name, info, weights, chosen, batch_size, device, plan.kid_subset
        )
        seed_list = [seed + i for i in range(seeds)] if source.has_model else []
        per_seed = _compute(plan, settings, seed_list)
    keys = list(per_seed[0])
    means = {k: statistics.fmean(r[k] for r in per_seed) for k in keys}
    stds = {
        k: statistics.stdev([r[k] for r in per_seed]) if len(per_seed) > 1 else 0.0 for k in keys
    }
    bpd = (
        _bits_per_dim(source, dataset, split, batch_size, device, data_root, seed)
        if source.has_model
        else None
    )
    protocol = plan.protocol(seed_list, batch_size, device, bpd is not None)
    label = str(target) if not isinstance(target, torch.Tensor) else "tensor"
    result = EvalResult(label, means, stds, per_seed, bpd, protocol)
    if write and source.run_dir is not None:
        result.write(source.run_dir)
    return result


def reference_split(dataset: str | None, split: str | None) -> str:
    """The split asked for; else all of a file the user named (``npz:``/``folder:``), else test."""
    if split is not None:
        return split
    if dataset is not None and names_a_path(dataset):
        return "all"
    return "test"


def _check_counts(
    seeds: int, batch_size: int, num_samples: int | None, num_real: int | None
) -> None:
    for flag, value in (
        ("--seeds", seeds),
        ("--batch-size", batch_size),
        ("--num-samples", num_samples),
        ("--num-real", num_real),
    ):
        if value is not None and value < 1:
            raise GanzooError(f"{flag} must be at least 1, got {value}")


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
    weights = info.weights(user_weights if name == "inception-v3-compat" else None)
    if requested is None:
        return name, info, weights, tuple(m for m in METRICS if m not in weights.unsupported)
    for metric in requested:
        if metric in weights.unsupported:
            raise GanzooError(weights.unsupported[metric])
    return name, info, weights, requested


def _compute(
    plan: Plan, settings: fidelity.Settings, seed_list: list[int]
) -> list[dict[str, float]]:
    """torch-fidelity's numbers, once per sampling seed (once for fixed samples)."""
    source = plan.source
    if not source.has_model:
        images = source.images[: plan.n_gen]
        return [fidelity.calculate(images, plan.reference, settings, plan.kid_subset)]
    results = []
    for s in seed_list:
        images = sources.generate(source.model, plan.n_gen, s, source.spec.value_range)
        results.append(fidelity.calculate(images, plan.reference, settings, plan.kid_subset))
    return results


def evaluate_all_checkpoints(run_dir: str | Path, **kwargs: Any) -> list[EvalResult]:
    """One result per checkpoint of a run, oldest first: a metric curve over training.

    A damaged checkpoint is skipped with a warning naming it, so one bad file
    does not cost the rest of the curve; if none is readable that is an error.
    """
    from ..train.checkpoint import CheckpointError
    from ..train.run import list_checkpoints

    found = list_checkpoints(run_dir)
    if not found:
        raise GanzooError(f"run directory {str(run_dir)!r} has no checkpoints")
    results, damaged = [], []
    for step, path in found:
        try:
            results.append(evaluate(run_dir, checkpoint=step, **kwargs))
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
    source: Any,
    dataset: str,
    split: str,
    batch_size: int,
    device: torch.device,
    data_root: Any,
    seed: int,
) -> float | None:
    """Mean held-out bits/dim for likelihood models; None for models without a likelihood."""
    from ..data.registry import load_dataset
    from ..model import Batch

    data = load_dataset(dataset, split, data_root=data_root)
    total, count = 0.0, 0
    # A VAE's bound samples its latents: a fixed seed makes the number reproducible, and
    # fork_rng keeps the caller's random state untouched.
    devices = [device] if device.type == "cuda" else []
    with torch.no_grad(), torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for start in range(0, len(data), batch_size):
            x = data.to_float(data.images[start : start + batch_size]).to(device)
            values = source.model.bits_per_dim(Batch(x))
            if values is None:
                return None
            total += float(values.double().sum())
            count += values.numel()
    return total / max(count, 1)
