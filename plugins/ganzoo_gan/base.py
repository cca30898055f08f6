"""What every GAN here shares: latent sampling, generator-only sampling, config checks."""

from __future__ import annotations

import torch

from ganzoo import Model, Phase, noise


def check_positive(config: object, *names: str) -> None:
    """``validate()`` helper: raise ValueError naming the first non-positive field."""
    for name in names:
        value = getattr(config, name)
        if value <= 0:
            raise ValueError(f"{name} must be > 0, got {value}")


def check_betas(betas: tuple[float, float]) -> None:
    if not all(0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"betas must both lie in [0, 1), got {betas}")


class GANModel(Model):
    """A generator ``G`` fed standard-normal latents of size ``config.latent_dim``."""

    family = "gan"
    ema_modules = ("G",)
    default_batch_size = 64

    G: torch.nn.Module

    #: Discriminator (critic) updates per generator update.
    d_repeat: int = 1

    def phases(self) -> list[Phase]:
        """D on a fresh real batch, then G, which needs only the batch size."""
        return [
            Phase("D", optimizer="D", loss=self.d_loss, repeat=self.d_repeat),
            Phase("G", optimizer="G", loss=self.g_loss, new_batch=False),
        ]

    def latents(self, n: int, device: torch.device) -> torch.Tensor:
        """Training latents, from torch's global RNG (seeded and checkpointed by the trainer)."""
        return torch.randn(n, self.config.latent_dim, device=device)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        # Eval mode makes batch norm use its running statistics, so an image does
        # not depend on what else is in the sampled batch; the mode is restored
        # because sampling happens in the middle of training (previews, FID).
        was_training = self.G.training
        self.G.eval()
        try:
            z = noise(n, self.config.latent_dim, self.device, generator)
            images = self.G(z).float()
        finally:
            self.G.train(was_training)
        low, high = self.spec.value_range
        return images.clamp_(min(low, high), max(low, high))
