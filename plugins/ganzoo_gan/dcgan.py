"""DCGAN (Radford, Metz and Chintala, 2016): convolutional G and D with batch norm.

The discriminator emits logits and the loss is BCE-with-logits, the
numerically safe form of the same objective (and allowed under autocast).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

from ganzoo import Batch, DatasetSpec

from .base import GANModel, check_betas, check_positive
from .nets import ConvDiscriminator, ConvGenerator, conv_plan, dcgan_init


@dataclass
class DCGANConfig:
    latent_dim: int = 100
    #: Feature maps of D's first layer (and G's last hidden layer); doubles per resolution halving.
    width: int = 32
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    def validate(self) -> None:
        check_positive(self, "latent_dim", "width", "lr_g", "lr_d")
        check_betas(self.betas)


def bce_logits(logits: torch.Tensor, target: float) -> torch.Tensor:
    logits = logits.float()
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class DCGAN(GANModel):
    name = "dcgan"
    description = "DCGAN: transposed-conv generator and strided-conv discriminator with batch norm."
    Config = DCGANConfig
    default_batch_size = 64

    @classmethod
    def check_spec(cls, spec: DatasetSpec) -> None:
        conv_plan(spec, cls.name)

    def build(self) -> None:
        plan = conv_plan(self.spec, self.name)
        c = self.config
        self.G = ConvGenerator(c.latent_dim, c.width, self.spec, plan)
        self.D = ConvDiscriminator(c.width, self.spec, plan, norm="batch")
        dcgan_init(self)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        betas = tuple(c.betas)
        return {
            "G": torch.optim.Adam(self.G.parameters(), lr=c.lr_g, betas=betas),
            "D": torch.optim.Adam(self.D.parameters(), lr=c.lr_d, betas=betas),
        }

    def d_loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, Any]]:
        with torch.no_grad():  # no gradient may reach G from D's update
            fake = self.G(self.latents(batch.size, batch.x.device)).detach()
        # Real and fake go through D separately, so each batch-norm batch is
        # all-real or all-fake, as in the paper's reference code.
        real_logits = self.D(batch.x)
        fake_logits = self.D(fake)
        loss = bce_logits(real_logits, 1.0) + bce_logits(fake_logits, 0.0)
        return loss, {
            "p_real": torch.sigmoid(real_logits.detach().float()).mean(),
            "p_fake": torch.sigmoid(fake_logits.detach().float()).mean(),
        }

    def g_loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, Any]]:
        # Non-saturating generator loss: label the fakes real.
        logits = self.D(self.G(self.latents(batch.size, batch.x.device)))
        loss = bce_logits(logits, 1.0)
        return loss, {}
