"""The non-finite-loss guard, without a host-device synchronisation per step.

Reading a loss on the host (``loss.item()``) makes the CPU wait for the GPU
to finish every step, which keeps the GPU's queue short.  The guard instead
records on the loss's device, per phase, the first step whose loss was not
finite (a few tiny kernels, no wait), and the trainer reads that record when
it would read the device anyway: at every logged step, before every sample
grid and checkpoint, and at the end.  A non-finite loss is therefore reported
at most ``min(--log-every, --checkpoint-every)`` steps late, with the step and
phase where it happened, and no checkpoint is ever written after it: the last
checkpoint named in the error is intact.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from ..errors import DivergenceError


class FiniteGuard:
    def __init__(self) -> None:
        #: phase -> (first bad step or -1, the loss at that step), both on the loss's device.
        self.first: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def watch(self, phase: str, loss: torch.Tensor, step: int) -> None:
        """Remember ``loss`` of ``step`` if it is the phase's first non-finite one."""
        loss = loss.detach().float()
        if phase not in self.first:
            never = torch.full((), -1, dtype=torch.long, device=loss.device)
            self.first[phase] = (never, torch.zeros((), device=loss.device))
        first_step, first_loss = self.first[phase]
        fresh = ~torch.isfinite(loss) & (first_step < 0)
        first_step.copy_(torch.where(fresh, step, first_step))
        first_loss.copy_(torch.where(fresh, loss, first_loss))

    @contextlib.contextmanager
    def reporting(self, last_checkpoint: Path | None) -> Iterator[None]:
        """A step that fails after a non-finite loss reports that loss: NaN weights break a
        model's next forward (a BCE on NaN probabilities raises), and the NaN is the cause."""
        try:
            yield
        except DivergenceError:
            raise
        except Exception:
            self.check(last_checkpoint)
            raise

    def check(self, last_checkpoint: Path | None, world: Any = None) -> None:
        """Raise ``DivergenceError`` naming the earliest non-finite loss seen so far; with a
        ``world``, on every rank alike (a collective), naming the earliest over all ranks."""
        seen = [(int(step), phase, float(loss)) for phase, (step, loss) in self.first.items()]
        bad = sorted((item for item in seen if item[0] >= 0), key=lambda item: item[0])
        where = ""
        if world is not None and world.distributed:
            found = world.gather_objects(bad[0] if bad else None)
            bad = sorted((b, rank) for rank, b in enumerate(found) if b is not None)
            where = f" on rank {bad[0][1]}" if bad else ""
            bad = [b for b, _ in bad]
        if bad:
            step, phase, value = bad[0]
            raise DivergenceError(
                f"non-finite loss ({value}) in phase {phase!r} at step {step}{where}; last good "
                f"checkpoint: {last_checkpoint or 'none written yet'} (intact)"
            )
