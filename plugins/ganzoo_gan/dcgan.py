"""DCGAN (Radford, Metz and Chintala, 2016): convolutional G and D with batch norm.

By default the discriminator emits logits and the loss is BCE-with-logits,
the numerically safe form of the GAN objective (and allowed under autocast).
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import ConvGANModel, check_betas, check_positive
from .losses import LossName
from .nets import dcgan_init


@dataclass
class DCGANConfig:
    latent_dim: int = 100
    #: Feature maps of D's first layer (and G's last hidden layer); doubles per resolution halving.
    width: int = 32
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    #: Adversarial criterion; "bce" is the paper's (non-saturating G).
    loss: LossName = "bce"

    def validate(self) -> None:
        check_positive(self, "latent_dim", "width", "lr_g", "lr_d")
        check_betas(self.betas)


class DCGAN(ConvGANModel):
    name = "dcgan"
    description = "DCGAN: transposed-conv generator and strided-conv discriminator with batch norm."
    Config = DCGANConfig
    zoo_steps = 2000

    def build(self) -> None:
        super().build()
        dcgan_init(self)
