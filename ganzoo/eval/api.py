"""``ganzoo.evaluate``: score a run, a checkpoint, a model or a set of samples under a recorded protocol."""

from __future__ import annotations

import contextlib
import dataclasses
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from ..dist import setup
from ..errors import GanzooError, warn
from ..sampling.draw import applied
from . import classes, fidelity, metrics, sources
from .extractors import (
    FeatureExtractorInfo,
    ResolvedWeights,
    default_extractor,
    get_extractor,
)
from .likelihood import bits_per_dim
from .metrics import parse_metrics
from .plan import Plan
from .protocol import EvalResult
from .request import EvalRequest
from .safeload import private_copy

DEFAULT_DATASET = "mnist5k"


def evaluate(
    target: Any,
    request: EvalRequest | None = None,
    *,
    checkpoint: int | str | None = None,
    write: bool = True,
    **options: Any,
) -> EvalResult:
    """Score ``target`` (run dir, checkpoint, ``Model``, sample folder, ``.npz`` or uint8 tensor).

    ``options`` are the fields of ``EvalRequest`` (``metrics="fid"``, ``seeds=3``,
    ``sampling={"sample_steps": 250}``, ...), applied over ``request``.  Everything
    is validated before any feature is computed, and the result is written (run
    targets only, ``RUN/eval/<protocol-hash>.json``) only after every number
    exists, so a failure leaves nothing behind.
    """
    base = dataclasses.asdict(request) if request is not None else {}
    request = EvalRequest.of({**base, **options})
    request.check()
    world, device = setup(request.device)  # one process, or this rank's share under torchrun
    source, (name, info, resolved, chosen) = _inputs(target, request, checkpoint, device)
    dataset = request.dataset or source.dataset or DEFAULT_DATASET
    split = request.reference_split
    labelled = source.labels is not None or source.has_model and bool(source.model.conditional)
    default = request.metrics is None
    chosen = metrics.with_classes(chosen, default, info, name, dataset, labelled)
    with _sampling(source, request), private_copy(resolved, name) as weights:
        plan = Plan(source, dataset, split, name, info, weights, chosen, world=world)
        plan.count(
            request.num_samples, request.num_real, request.kid_subset_size, request.data_root,
            request.train_dataset,
        )  # fmt: skip
        extra = tuple(plan.class_layers().values())
        batch = request.batch_size or info.batch_size(device.type)
        settings = fidelity.Settings(
            name, info, weights, metrics.fidelity_metrics(chosen), batch, device, extra
        )
        seed_list = [request.seed + i for i in range(request.seeds)] if source.has_model else []
        per_seed, intervals, found = _compute(plan, settings, seed_list)
        protocol = plan.protocol(seed_list, batch, device)
    bpd = None
    if source.has_model and world.is_main:
        bpd = bits_per_dim(source, dataset, split, request, device)
    bpd = world.broadcast_object(bpd)
    protocol["bits_per_dim_split"] = f"{dataset}:{split}" if bpd is not None else None
    label = str(target) if not isinstance(target, torch.Tensor) else "tensor"
    result = EvalResult(label, *_mean_and_spread(per_seed), per_seed, bpd, protocol)
    result.intervals = intervals
    result.bootstrap_replicates = found.pop("bootstrap_replicates", {})
    result.extra.update(found)  # per-class lists, memorization's nearest pairs
    if source.has_model:
        result.extra["scored_model"] = _scored_model(source.model)
    if default and metrics.left_out(info, resolved):
        result.extra["not_measured"] = metrics.left_out(info, resolved)
    result.run_dir = source.run_dir
    if write and world.is_main:
        result.keep()
    world.barrier()  # the ranks leave together: none tears down its connections mid-write
    return result


def _scored_model(model: Any) -> dict[str, Any]:
    """The model that was scored, as loaded: a leaderboard row shows it, not run.json's claim."""
    from .. import plugins

    name = getattr(model, "name", None)
    entry = plugins.registry("register_models").get(name) if isinstance(name, str) else None
    return {
        "model": name,
        "family": getattr(model, "family", None),
        "plugin": entry.plugin if entry is not None else None,
        "parameters": model.num_parameters(),
    }


def _sampling(source: sources.Source, request: EvalRequest):
    """The model with the request's sampling-time settings (``--set``) for the evaluation."""
    overrides = request.sampling_overrides
    if not overrides:
        return contextlib.nullcontext()
    if not source.has_model:
        raise GanzooError(
            f"--set {request.sampling[0]} changes how a model samples; {source.description} "
            "holds fixed images"
        )
    return applied(source.model, overrides)


def _inputs(
    target: Any, request: EvalRequest, checkpoint: int | str | None, device: torch.device
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


def scorable_metrics(shape: tuple[int, int, int], metrics: str, flag: str) -> tuple[str, ...]:
    """The metrics ``metrics`` names, checked against the default extractor of images of
    ``shape`` and its weights (for a check before work starts, e.g. in-loop evaluation)."""
    try:
        requested = parse_metrics(metrics)
        return _extractor_and_weights(None, shape, None, requested)[3]
    except GanzooError as exc:
        raise GanzooError(f"{flag} {metrics}: {exc}") from None


def _mean_and_spread(per_seed: list[dict[str, float]]) -> tuple[dict, dict]:
    keys = [k for k in per_seed[0] if all(k in r for r in per_seed)]  # intra-FID may lack a class
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
    return name, info, weights, metrics.served(name, info, weights, requested)


def _compute(
    plan: Plan, settings: fidelity.Settings, seed_list: list[int]
) -> tuple[list[dict[str, float]], dict[str, list[float]], dict[str, Any]]:
    """torch-fidelity's numbers, the class metrics and memorization's once per sampling seed
    (once for fixed samples), the bootstrap intervals of the first seed's, and what a result
    keeps besides numbers (per-class lists, the images nearest to training images, the first
    seed's bootstrap replicates).

    Under torch.distributed every rank samples and encodes its share, the features
    are gathered in image order, and rank 0 computes what one process would (the
    others receive its numbers).
    """
    world = plan.world
    scorer = fidelity.Scorer(settings, plan.reference, world)
    by_class = plan.class_scorer(scorer.encode_shared)
    if plan.copying is not None:
        plan.copying.read(scorer.encode_shared)
    results, intervals, per_class, found = [], {}, [], {}
    clock = {"seconds": 0.0, "images": 0}  # the wall time of sampling alone: a model's cost
    for i, (features, labels, pixels) in enumerate(_encoded(plan, scorer, seed_list, clock)):
        if not world.is_main:
            continue
        numbers, drawn = scorer.score(None, plan.kid_subset, i == 0, features=features)
        bounds = dict(drawn.intervals) if drawn else {}
        if drawn:  # the first seed's: those behind the intervals
            found["bootstrap_replicates"] = drawn.replicates
        if by_class is not None:
            class_numbers, lists = by_class.score(features, labels)
            numbers.update(class_numbers)
            per_class.append(lists)
        if plan.copying is not None:
            copy_numbers, copy_bounds, nearest = plan.copying.score(features, pixels)
            numbers.update(copy_numbers)
            bounds.update(copy_bounds)
            found.setdefault("memorization", nearest)
        results.append(numbers)
        intervals = intervals or bounds
    if per_class:
        found["per_class"] = classes.mean_per_class(per_class)
    if clock["images"]:
        found["sampling_time"] = sources.timing(clock, settings.device, world)
    return world.broadcast_object((results, intervals, found))


def _encoded(plan: Plan, scorer: fidelity.Scorer, seed_list: list[int], clock: dict):
    """(features of all compared images, their labels, the images themselves when memorization
    is measured, else None) per draw: the fixed images once, else one draw per seed; each rank
    encodes only its share, and ``clock`` adds up the seconds its sampling took."""
    source, n, world = plan.source, plan.n_gen, plan.world
    keep = plan.copying is not None
    if not source.has_model:
        labels = source.labels[:n] if source.labels is not None else None
        images = source.images[:n]
        yield scorer.encode_shared(images), labels, images if keep else None
        return
    for seed in seed_list:
        started = time.perf_counter()
        images, labels, index = sources.generate(
            source.model, n, seed, source.spec.value_range, world
        )
        clock["seconds"] += time.perf_counter() - started  # uint8 on the CPU: synchronised
        clock["images"] += len(index)
        pixels = world.gather_rows({"pixels": images}, index, n)["pixels"] if keep else None
        yield scorer.encode_split(images, index, n), labels, pixels


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
