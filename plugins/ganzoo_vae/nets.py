"""Encoder and decoder: two stride-2 stages each way, so H and W must be multiples of 4.

Kept lean at full resolution (where convolutions cost the most on a CPU): the
widest layers work at a quarter of the image side.
"""

from __future__ import annotations

import torch
from torch import nn


def _act() -> nn.Module:
    return nn.SiLU()


class Encoder(nn.Module):
    """Image -> (mu, log variance) of a diagonal Gaussian posterior."""

    def __init__(self, channels: int, height: int, width: int, base: int, latent_dim: int) -> None:
        super().__init__()
        wide = 2 * base
        self.features = nn.Sequential(
            nn.Conv2d(channels, base, 4, stride=2, padding=1),
            _act(),
            nn.Conv2d(base, wide, 4, stride=2, padding=1),
            _act(),
            nn.Conv2d(wide, wide, 3, padding=1),
            _act(),
            nn.Flatten(),
        )
        self.head = nn.Linear(wide * (height // 4) * (width // 4), 2 * latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.head(self.features(x)).chunk(2, dim=1)
        return mu, logvar


class Decoder(nn.Module):
    """Latent -> per-pixel (mean, log-scale) of a discretized logistic, on the [-1, 1] scale."""

    def __init__(
        self,
        channels: int,
        height: int,
        width: int,
        base: int,
        latent_dim: int,
        pixel_scale: bool = True,
    ) -> None:
        super().__init__()
        wide, narrow = 2 * base, max(1, base // 2)
        self.pixel_scale = pixel_scale
        # One learned log-scale per channel unless every pixel predicts its own.
        self.log_scale = None if pixel_scale else nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.shape = (wide, height // 4, width // 4)
        self.fc = nn.Sequential(nn.Linear(latent_dim, wide * (height // 4) * (width // 4)), _act())
        self.body = nn.Sequential(
            nn.Conv2d(wide, wide, 3, padding=1),
            _act(),
            nn.ConvTranspose2d(wide, base, 4, stride=2, padding=1),
            _act(),
            nn.ConvTranspose2d(base, narrow, 4, stride=2, padding=1),
            _act(),
            nn.Conv2d(narrow, (2 if pixel_scale else 1) * channels, 3, padding=1),
        )

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.fc(z).view(z.shape[0], *self.shape)
        out = self.body(h)
        if self.log_scale is None:
            mean, log_scale = out.chunk(2, dim=1)
            return mean, log_scale
        return out, self.log_scale.expand_as(out)
