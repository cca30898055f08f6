"""Turning ``--device`` text into a torch device, with errors a user can act on."""

from __future__ import annotations

import torch

from .errors import GanzooError


def resolve_device(name: str | torch.device | None) -> torch.device:
    """``auto`` is CUDA when available, else CPU; asking for a missing GPU is a clear error."""
    if name is None or str(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise GanzooError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise GanzooError(f"--device {name} asked for, but no CUDA GPU is available here")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise GanzooError(f"--device {name}: only {torch.cuda.device_count()} GPU(s) here")
    elif device.type != "cpu":
        raise GanzooError(f"device type {device.type!r} is not supported; use cpu or cuda")
    return device
