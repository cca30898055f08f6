"""``ganzoo.evaluate``: score a run, a checkpoint, a model or a set of samples under a recorded protocol."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from ..device import resolve_device
from ..errors import GanzooError
from . import fidelity, sources
from .extractors import METRICS, default_extractor, get_extractor
from .protocol import VERSION, EvalResult, versions
from .refcache import Reference

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
    split: str = "test",
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
    every number exists, so a failure leaves nothing behind.
    """
    requested = parse_metrics(metrics)
    if seeds < 1:
        raise GanzooError(f"--seeds must be at least 1, got {seeds}")
    if batch_size < 1:
        raise GanzooError(f"--batch-size must be at least 1, got {batch_size}")
    if num_samples is not None and num_samples < 1:
        raise GanzooError(f"--num-samples must be at least 1, got {num_samples}")
    device = resolve_device(device)
    source = sources.resolve(target, checkpoint=checkpoint, device=device, use_ema=use_ema)
    if not source.has_model and seeds > 1:
        raise GanzooError("--seeds needs a model to sample from; fixed samples have no seed")
    dataset = dataset or source.dataset or DEFAULT_DATASET

    shape = source.shape()
    if source.images is not None and shape[0] == 3 and _is_gray(source.images):
        shape = (1, *shape[1:])
    name = extractor or default_extractor(shape)
    info = get_extractor(name)
    weights = info.weights(inception_weights if name == "inception-v3-compat" else None)
    if requested is None:
        chosen = tuple(m for m in METRICS if m not in weights.unsupported)
    else:
        for metric in requested:
            if metric in weights.unsupported:
                raise GanzooError(weights.unsupported[metric])
        chosen = requested

    reference = None
    if any(m in chosen for m in ("fid", "kid", "prc")):
        reference = Reference(
            dataset, split, name, weights.sha256, info.resize, info.revision, num_real, data_root
        )
        reference.verify()
        ref_shape = reference.shape()
        n_real = reference.num_images()
        if source.images is not None:
            source.images = sources.match_reference(source.images, ref_shape, source.description)
        elif tuple(ref_shape) != tuple(shape):
            raise GanzooError(
                f"the model makes {'x'.join(map(str, shape))} images but {dataset!r} has "
                f"{'x'.join(map(str, ref_shape))}; evaluate against the dataset it was trained on"
            )
    else:
        n_real = None

    if source.images is not None:
        available = source.images.shape[0]
        if num_samples is not None and num_samples > available:
            raise GanzooError(
                f"--num-samples {num_samples} but {source.description} holds only {available} images"
            )
        n_gen = num_samples or available
    else:
        n_gen = num_samples or n_real or 1000
    kid_subset = (
        fidelity.kid_subset_size(kid_subset_size, n_gen, n_real) if "kid" in chosen else None
    )
    if "isc" in chosen and n_gen < fidelity.ISC_SPLITS:
        raise GanzooError(
            f"Inception Score needs at least {fidelity.ISC_SPLITS} samples, got {n_gen}"
        )
    if "prc" in chosen and min(n_gen, n_real) <= fidelity.PRC_NEIGHBORHOOD:
        raise GanzooError(
            f"precision/recall need more than {fidelity.PRC_NEIGHBORHOOD} images per set"
        )

    settings = fidelity.Settings(name, info, weights, chosen, batch_size, device, kid_subset)
    seed_list = [seed + i for i in range(seeds)] if source.has_model else []
    per_seed = []
    if source.has_model:
        for s in seed_list:
            images = sources.generate(source.model, n_gen, s, source.spec.value_range)
            per_seed.append(fidelity.calculate(images, reference, settings, kid_subset))
    else:
        per_seed.append(fidelity.calculate(source.images[:n_gen], reference, settings, kid_subset))

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

    protocol = {
        "version": VERSION,
        "reference": None
        if reference is None
        else {
            "dataset": dataset,
            "split": split,
            "num_images": n_real,
            "subset_seed": 0 if num_real else None,
        },
        "generated": {
            "source": source.kind,
            "num_images": n_gen,
            "seeds": seed_list,
            "sample_chunk": sources.SAMPLE_CHUNK if source.has_model else None,
        },
        "metrics": list(chosen),
        "extractor": {
            "name": name,
            "layers": {m: info.layer(m) for m in chosen},
            "weights_sha256": weights.sha256,
            "weights_source": weights.source,
            "resize": info.resize,
            "revision": info.revision,
        },
        "settings": {
            "isc_splits": fidelity.ISC_SPLITS if "isc" in chosen else None,
            "kid_subset_size": kid_subset,
            "kid_subsets": fidelity.KID_SUBSETS if "kid" in chosen else None,
            "prc_neighborhood": fidelity.PRC_NEIGHBORHOOD if "prc" in chosen else None,
            "rng_seed": fidelity.RNG_SEED,
        },
        "batch_size": batch_size,
        "device": device.type,
        "checkpoint": None if source.step is None else {"step": source.step, "ema": source.ema},
        "bits_per_dim_split": f"{dataset}:{split}" if bpd is not None else None,
        "versions": versions(),
    }
    result = EvalResult(
        str(target) if not isinstance(target, torch.Tensor) else "tensor",
        means,
        stds,
        per_seed,
        bpd,
        protocol,
    )
    if write and source.run_dir is not None:
        result.write(source.run_dir)
    return result


def evaluate_all_checkpoints(run_dir: str | Path, **kwargs: Any) -> list[EvalResult]:
    """One result per checkpoint of a run, oldest first: a metric curve over training."""
    from ..train.run import list_checkpoints

    found = list_checkpoints(run_dir)
    if not found:
        raise GanzooError(f"run directory {str(run_dir)!r} has no checkpoints")
    return [evaluate(run_dir, checkpoint=step, **kwargs) for step, _ in found]


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
