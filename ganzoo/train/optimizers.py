"""The trainer's choice of optimizer implementation: one fused kernel per update where possible.

PyTorch's Adam, AdamW and SGD each have three implementations of the same
update: a Python loop over the parameters (the default on a CPU), ``foreach``
(one kernel per operation over all parameters; the default on CUDA) and
``fused`` (one kernel for the whole update).  A model builds its optimizers
the plain way (``configure_optimizers``); with ``TrainOptions.fused`` (by
default on CUDA) the trainer rebuilds each one it can with ``fused=True``
before any step: the same hyperparameters and parameter groups, the update
computed in one pass.  On a CPU it measured no faster for the first-party
models (docs/performance.md), so there the default keeps PyTorch's own
implementation and CPU training bitwise as it was.  The update's rounding
differs in the last bits between implementations; resuming with another
setting continues correctly but not bitwise.
"""

from __future__ import annotations

import inspect

import torch

FUSABLE = (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD)


def can_fuse(optimizer: torch.optim.Optimizer) -> bool:
    """A stock Adam/AdamW/SGD that has not stepped, did not choose an implementation itself,
    and holds floating-point parameters on a CPU or CUDA device."""
    if type(optimizer) not in FUSABLE or optimizer.state:
        return False
    if optimizer.defaults.get("differentiable"):
        return False
    for group in optimizer.param_groups:
        if group.get("fused") is not None or group.get("foreach") is not None:
            return False  # the model chose; respect it
        for p in group["params"]:
            if not p.is_floating_point() or p.device.type not in ("cpu", "cuda"):
                return False
    return True


def fused(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """``optimizer`` rebuilt with ``fused=True`` (the same groups and settings), if it can be."""
    if not can_fuse(optimizer):
        return optimizer
    cls = type(optimizer)
    groups = [{**group, "fused": True, "foreach": None} for group in optimizer.param_groups]
    accepted = inspect.signature(cls.__init__).parameters
    defaults = {**optimizer.defaults, "fused": True, "foreach": None}
    return cls(groups, **{key: value for key, value in defaults.items() if key in accepted})
