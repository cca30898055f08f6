"""WGAN-GP (Gulrajani et al., 2017): a Wasserstein critic kept 1-Lipschitz by a gradient penalty.

The critic has no batch norm (the penalty is per sample, batch norm would mix
samples); layer norm is the paper's suggested replacement.  The generator is
DCGAN's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ganzoo import Batch, DatasetSpec

from .base import GANModel, check_betas, check_positive
from .nets import ConvDiscriminator, ConvGenerator, conv_plan

CRITIC_NORMS = ("layer", "none")


@dataclass
class WGANGPConfig:
    latent_dim: int = 100
    #: Half of DCGAN's: each step costs ~6 DCGAN steps, so CPU runs need the speed.
    width: int = 16
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.0, 0.9)
    n_critic: int = 5
    gp_weight: float = 10.0
    critic_norm: str = "layer"

    def validate(self) -> None:
        check_positive(self, "latent_dim", "width", "lr_g", "lr_d", "n_critic")
        check_betas(self.betas)
        if self.gp_weight < 0:
            raise ValueError(f"gp_weight must be >= 0, got {self.gp_weight}")
        if self.critic_norm not in CRITIC_NORMS:
            raise ValueError(
                f"critic_norm must be one of {', '.join(CRITIC_NORMS)}, got {self.critic_norm!r}"
            )


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, alpha: torch.Tensor
) -> torch.Tensor:
    """Mean of (||grad_x critic(x)||_2 - 1)^2 at ``x = alpha * real + (1 - alpha) * fake``.

    ``alpha`` holds one mixing weight per sample.  The penalty is computed in
    float32 even under autocast: its inner gradient is not loss-scaled, so in
    half precision it would underflow.  ``create_graph`` keeps it differentiable
    with respect to the critic's parameters.
    """
    with torch.autocast(real.device.type, enabled=False):
        a = alpha.float().view(-1, *([1] * (real.dim() - 1)))
        x = (a * real.float() + (1 - a) * fake.float()).requires_grad_(True)
        out = critic(x)
        (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
        return (grad.flatten(1).norm(2, dim=1) - 1).pow(2).mean()


class WGANGP(GANModel):
    name = "wgan-gp"
    description = (
        "WGAN-GP: DCGAN generator, layer-norm critic with gradient penalty, 5 critic steps."
    )
    Config = WGANGPConfig
    default_batch_size = 64

    @classmethod
    def check_spec(cls, spec: DatasetSpec) -> None:
        conv_plan(spec, cls.name)

    def build(self) -> None:
        plan = conv_plan(self.spec, self.name)
        c = self.config
        self.G = ConvGenerator(c.latent_dim, c.width, self.spec, plan)
        self.D = ConvDiscriminator(c.width, self.spec, plan, norm=c.critic_norm)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        betas = tuple(c.betas)
        return {
            "G": torch.optim.Adam(self.G.parameters(), lr=c.lr_g, betas=betas),
            "D": torch.optim.Adam(self.D.parameters(), lr=c.lr_d, betas=betas),
        }

    @property
    def d_repeat(self) -> int:  # n_critic
        return self.config.n_critic

    def d_loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, Any]]:
        x = batch.x
        with torch.no_grad():  # no gradient may reach G from the critic's update
            fake = self.G(self.latents(batch.size, x.device)).detach()
        critic_real = self.D(x).float().mean()
        critic_fake = self.D(fake).float().mean()
        alpha = torch.rand(batch.size, device=x.device)
        gp = gradient_penalty(self.D, x, fake, alpha)
        loss = critic_fake - critic_real + self.config.gp_weight * gp
        return loss, {
            "wasserstein": (critic_real - critic_fake).detach(),
            "gp": gp.detach(),
        }

    def g_loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, Any]]:
        loss = -self.D(self.G(self.latents(batch.size, batch.x.device))).float().mean()
        return loss, {}
