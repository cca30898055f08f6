"""Held-out bits/dim of a likelihood model, the one number ``ganzoo.evaluate`` reads from
the model itself rather than from its samples."""

from __future__ import annotations

from typing import Any

import torch

from ..errors import warn
from .extractors import DEFAULT_BATCH_SIZE
from .request import EvalRequest


def bits_per_dim(
    source: Any, dataset: str, split: str, request: EvalRequest, device: torch.device
) -> float | None:
    """Mean held-out bits/dim for likelihood models; None for models without a likelihood."""
    from ..data.registry import load_dataset
    from ..model import Batch, Model
    from ..sampling.draw import eval_mode

    if getattr(source.model, "sampling_only", False):
        if type(source.model).bits_per_dim is not Model.bits_per_dim:  # it has a likelihood
            warn(
                f"bits/dim not measured: {source.description} holds only the weights sampling "
                "needs, the likelihood needs the others (evaluate the run it was exported from)"
            )
        return None
    data = load_dataset(dataset, split, data_root=request.data_root)
    total, count, step = 0.0, 0, request.batch_size or DEFAULT_BATCH_SIZE
    # A VAE's bound samples its latents: a fixed seed makes the number reproducible, and
    # fork_rng keeps the caller's random state untouched.
    devices = [device] if device.type == "cuda" else []
    with torch.no_grad(), eval_mode(source.model), torch.random.fork_rng(devices=devices):
        torch.manual_seed(request.seed)
        for start in range(0, len(data), step):
            x = data.to_float(data.images[start : start + step]).to(device)
            values = source.model.bits_per_dim(Batch(x))
            if values is None:
                return None
            total += float(values.double().sum())
            count += values.numel()
    return total / max(count, 1)
