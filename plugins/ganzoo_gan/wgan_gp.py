"""WGAN-GP (Gulrajani et al., 2017): a Wasserstein critic kept 1-Lipschitz by a gradient penalty.

The critic has no batch norm (the penalty is per sample, batch norm would mix
samples); layer norm is the paper's suggested replacement.  The generator is
DCGAN's.  The penalty belongs to this model, whichever ``loss`` is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .base import ConvGANModel, Penalty, check_betas, check_positive
from .losses import LossName

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
    #: Adversarial criterion; the gradient penalty is added to any of them.
    loss: LossName = "wasserstein"

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


class WGANGP(ConvGANModel):
    name = "wgan-gp"
    description = "WGAN-GP: DCGAN generator, layer-norm critic with gradient penalty, n_critic critic steps per G step."
    Config = WGANGPConfig
    zoo_steps = 800

    def discriminator_norm(self) -> str:
        return self.config.critic_norm

    @property
    def d_repeat(self) -> int:  # n_critic
        return self.config.n_critic

    def d_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> Penalty:
        alpha = torch.rand(real.shape[0], device=real.device)
        return Penalty("gp", self.config.gp_weight, gradient_penalty(self.D, real, fake, alpha))
