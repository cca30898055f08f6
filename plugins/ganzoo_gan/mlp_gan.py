"""The design document's reference GAN (section 5.2): two MLPs and binary cross-entropy.

Kept exactly as the document has it, Sigmoid output and ``nn.BCELoss``
included, so that it is the baseline every other model is compared with.
Only the image size is generalised: it flattens whatever the dataset gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ganzoo import Batch

from .base import GANModel, check_betas, check_positive
from .nets import OutputRange


@dataclass
class MLPGANConfig:
    latent_dim: int = 100
    g_hidden: tuple[int, ...] = (256, 512, 1024)
    d_hidden: tuple[int, ...] = (1024, 512, 256)
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    def validate(self) -> None:
        check_positive(self, "latent_dim", "lr")
        if not self.g_hidden or not self.d_hidden or min(self.g_hidden + self.d_hidden) <= 0:
            raise ValueError("g_hidden and d_hidden need at least one layer, all sizes > 0")
        check_betas(self.betas)


class MLPGenerator(nn.Module):
    def __init__(self, config: MLPGANConfig, spec: Any) -> None:
        super().__init__()
        sizes = (config.latent_dim, *config.g_hidden)
        layers: list[nn.Module] = []
        for cin, cout in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(cin, cout), nn.ReLU()]
        layers += [nn.Linear(sizes[-1], spec.dims), nn.Tanh(), OutputRange(spec.value_range)]
        self.model = nn.Sequential(*layers)
        self.shape = (spec.channels, spec.height, spec.width)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model(z).view(z.shape[0], *self.shape)


class MLPDiscriminator(nn.Module):
    """Outputs a probability (Sigmoid), as in the reference, not a logit."""

    def __init__(self, config: MLPGANConfig, spec: Any) -> None:
        super().__init__()
        sizes = (spec.dims, *config.d_hidden)
        layers: list[nn.Module] = []
        for cin, cout in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(cin, cout), nn.ReLU()]
        layers += [nn.Linear(sizes[-1], 1), nn.Sigmoid()]
        self.model = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images.flatten(1)).squeeze(1)


def bce(probabilities: torch.Tensor, target: float) -> torch.Tensor:
    """``nn.BCELoss`` against a constant label, always in float32.

    Autocast refuses BCE on probabilities (it is unsafe in half precision), so
    it is computed outside autocast; BCELoss's own clamp of log at -100 is what
    keeps a saturated discriminator finite.
    """
    with torch.autocast(probabilities.device.type, enabled=False):
        p = probabilities.float()
        return nn.functional.binary_cross_entropy(p, torch.full_like(p, target))


class MLPGAN(GANModel):
    name = "gan"
    description = "Reference MLP GAN of the design document (BCE on a sigmoid discriminator)."
    Config = MLPGANConfig
    default_batch_size = 64

    def build(self) -> None:
        self.G = MLPGenerator(self.config, self.spec)
        self.D = MLPDiscriminator(self.config, self.spec)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return {
            "G": torch.optim.Adam(self.G.parameters(), lr=c.lr, betas=tuple(c.betas)),
            "D": torch.optim.Adam(self.D.parameters(), lr=c.lr, betas=tuple(c.betas)),
        }

    def d_loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, Any]]:
        with torch.no_grad():  # no gradient may reach G from D's update
            fake = self.G(self.latents(batch.size, batch.x.device)).detach()
        p_real = self.D(batch.x)
        p_fake = self.D(fake)
        loss = bce(p_real, 1.0) + bce(p_fake, 0.0)
        return loss, {
            "p_real": p_real.detach().float().mean(),
            "p_fake": p_fake.detach().float().mean(),
        }

    def g_loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, Any]]:
        # Non-saturating: maximise log D(G(z)) instead of minimising log(1 - D(G(z))).
        p_fake = self.D(self.G(self.latents(batch.size, batch.x.device)))
        loss = bce(p_fake, 1.0)
        return loss, {}
