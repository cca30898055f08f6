"""Exponential moving average of a model's generator weights.

Only the submodules named by ``Model.ema_modules`` are averaged (a GAN's
generator, not its discriminator).  Sampling and evaluation swap the averaged
weights in temporarily, so there is never a second copy of the model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, module_names: tuple[str, ...], decay: float, start: int):
        if not module_names:
            raise ValueError(f"{type(model).__name__} declares no ema_modules; EMA does not apply")
        self.decay = decay
        self.start = start
        self.names = [
            f"{m}.{n}"
            for m in module_names
            for n, _ in getattr(model, m).named_parameters(recurse=True)
        ]
        self.buffer_names = [
            f"{m}.{n}" for m in module_names for n, _ in getattr(model, m).named_buffers()
        ]
        params = dict(model.named_parameters())
        buffers = dict(model.named_buffers())
        self.shadow = {n: params[n].detach().clone() for n in self.names}
        self.shadow.update({n: buffers[n].detach().clone() for n in self.buffer_names})

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        params = dict(model.named_parameters())
        buffers = dict(model.named_buffers())
        if step <= self.start:  # before the start step the average just follows the weights
            for n in self.names:
                self.shadow[n].copy_(params[n])
        else:
            for n in self.names:
                self.shadow[n].lerp_(params[n].detach(), 1.0 - self.decay)
        for n in self.buffer_names:
            self.shadow[n].copy_(buffers[n])

    @contextlib.contextmanager
    def applied(self, model: nn.Module) -> Iterator[None]:
        """Temporarily load the averaged weights into ``model``."""
        tensors = {**dict(model.named_parameters()), **dict(model.named_buffers())}
        backup = {n: tensors[n].detach().clone() for n in self.shadow}
        with torch.no_grad():
            for n, value in self.shadow.items():
                tensors[n].copy_(value)
        try:
            yield
        finally:
            with torch.no_grad():
                for n, value in backup.items():
                    tensors[n].copy_(value)

    def state_dict(self) -> dict:
        return {"decay": self.decay, "start": self.start, "shadow": self.shadow}

    def load_state_dict(self, state: dict) -> None:
        for n, value in state["shadow"].items():
            self.shadow[n].copy_(value)

    def to(self, device: torch.device) -> EMA:
        self.shadow = {n: t.to(device) for n, t in self.shadow.items()}
        return self


def apply_shadow(model: nn.Module, shadow: dict[str, torch.Tensor]) -> None:
    """Load averaged weights into a model for good (used when sampling from a checkpoint)."""
    tensors = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    with torch.no_grad():
        for n, value in shadow.items():
            tensors[n].copy_(value)
