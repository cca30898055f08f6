"""The ``vae`` model: a convolutional VAE with a discretized-logistic decoder.

The decoder's likelihood is a proper distribution over the 256 values of each
8-bit pixel, so the negative ELBO is an upper bound on the code length of the
actual data, and its bits/dim can stand on the same leaderboard as other
likelihood models.  (Bernoulli on [0, 1] pixels, the MNIST habit, is a density
on the wrong support and gives no such number.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from ganzoo import Batch, Model, Phase, SpecError, noise

from .likelihood import discretized_logistic_log_prob, to_unit_range
from .nets import Decoder, Encoder

#: Largest side accepted; the flattened bottleneck grows with the square of it.
MAX_SIDE = 64


@dataclass
class VAEConfig:
    latent_dim: int = 16
    base_channels: int = 32
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    #: Weight of the KL term; 1.0 is the true ELBO (logged ELBO/bpd always use 1.0).
    beta: float = 1.0
    #: Decoder scale: predicted per pixel, or one learned value per channel.
    scale: Literal["pixel", "channel"] = "pixel"

    def validate(self) -> None:
        if self.latent_dim < 1:
            raise ValueError("latent_dim must be at least 1")
        if self.base_channels < 1:
            raise ValueError("base_channels must be at least 1")
        if self.lr <= 0:
            raise ValueError("lr must be positive")
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ValueError("beta1 and beta2 must lie in [0, 1)")
        if self.beta < 0:
            raise ValueError("beta must be non-negative")


class VAE(Model):
    """Convolutional VAE; see docs/models/vae.md."""

    name = "vae"
    family = "vae"
    description = "Convolutional VAE with a discretized-logistic decoder (ELBO in bits/dim)."
    Config = VAEConfig
    ema_modules = ("decoder",)
    default_batch_size = 128
    zoo_steps = 1000

    config: VAEConfig

    @classmethod
    def check_spec(cls, spec) -> None:
        h, w = spec.height, spec.width
        if h % 4 or w % 4 or not (8 <= h <= MAX_SIDE and 8 <= w <= MAX_SIDE):
            raise SpecError(
                f"vae needs height and width that are multiples of 4 between 8 and {MAX_SIDE} "
                f"(e.g. 8x8, 28x28, 32x32), got {h}x{w}; resize the dataset or pick another model"
            )
        if spec.channels < 1:
            raise SpecError(f"vae needs at least one channel, got {spec.channels}")

    def build(self) -> None:
        c, h, w = self.spec.channels, self.spec.height, self.spec.width
        cfg = self.config
        self.encoder = Encoder(c, h, w, cfg.base_channels, cfg.latent_dim)
        self.decoder = Decoder(
            c, h, w, cfg.base_channels, cfg.latent_dim, pixel_scale=cfg.scale == "pixel"
        )

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg = self.config
        return {"vae": torch.optim.Adam(self.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))}

    def phases(self) -> list[Phase]:
        return [Phase("vae", "vae", self._loss)]

    def terms(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-image reconstruction NLL and KL, both in nats (one posterior sample)."""
        x = to_unit_range(batch.x, self.spec.value_range)
        mu, logvar = self.encoder(x)
        mu, logvar = mu.float(), logvar.float()
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        mean, log_scale = self.decoder(z)
        recon = -discretized_logistic_log_prob(x, mean, log_scale).flatten(1).sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)
        return recon, kl

    def _loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        recon, kl = self.terms(batch)
        dims = self.spec.dims
        nelbo = recon + kl
        # Per dimension, so the scale (and a trainer's gradient clipping) does not depend on image size.
        loss = (recon + self.config.beta * kl).mean() / dims
        logs = {
            "elbo_nats": (-nelbo.mean()).detach(),
            "bpd": (nelbo.mean() / (dims * math.log(2))).detach(),
            "kl": kl.mean().detach(),
            "recon": recon.mean().detach(),
        }
        return loss, logs

    def bits_per_dim(self, batch: Batch) -> torch.Tensor:
        """Negative ELBO per image in bits/dim: an upper bound on the 8-bit code length."""
        recon, kl = self.terms(batch)
        return (recon + kl) / (self.spec.dims * math.log(2))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode z ~ N(0, I) and return the decoder's location image (the logistic mean), clamped."""
        z = noise(n, self.config.latent_dim, self.device, generator)
        mean, _ = self.decoder(z)
        low, high = self.spec.value_range
        unit = mean.float().clamp(-1.0, 1.0)
        return (unit + 1.0) * ((high - low) / 2.0) + low
