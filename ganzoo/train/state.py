"""What a checkpoint holds of a ``Trainer``, and how a trainer is put back into it.

Everything that decides the next step is saved: weights, optimizer and
scheduler state, the gradient scaler, EMA, every rank's random stream and the
position in the data.  Restoring all of it is what makes resume exact.
"""

from __future__ import annotations

from typing import Any

from ..errors import GanzooError, warn
from .seeding import restore_rng, rng_state


def collect(trainer: Any) -> dict[str, Any]:
    """The trainer's state (a collective under torch.distributed: every rank calls it)."""
    t = trainer
    return {
        "step": t.step,
        "model": t.model.state_dict(),
        "optimizers": {name: opt.state_dict() for name, opt in t.optimizers.items()},
        "schedulers": {name: s.state_dict() for name, s in t.schedulers.items()},
        "scaler": t.scaler.state_dict() if t.scaler.is_enabled() else None,
        "ema": t.ema.state_dict() if t.ema is not None else None,
        "rng": rng_state(t.device, t.world),
        "data": t.batches.state_dict(),
        "run": t.run_info,
    }


def restore(trainer: Any, state: dict[str, Any]) -> None:
    t = trainer
    t.model.load_state_dict(state["model"])
    for name, opt in t.optimizers.items():
        opt.load_state_dict(state["optimizers"][name])
    for name, scheduler in t.schedulers.items():
        scheduler.load_state_dict(state["schedulers"][name])
    if t.scaler.is_enabled() and state.get("scaler"):
        t.scaler.load_state_dict(state["scaler"])
    if t.ema is not None:
        if state.get("ema") is None:
            raise GanzooError("the checkpoint was trained without EMA; resume without --ema")
        t.ema.load_state_dict(state["ema"])
    t.step = int(state["step"])
    note = restore_rng(state["rng"], t.device, t.world, t.options.seed, t.step)
    if note is not None and t.world.is_main:
        warn(note)
    t.batches.load_state_dict(state["data"])
