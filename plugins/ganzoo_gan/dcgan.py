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
    #: Class-conditional: batch norm in G and a projection in D take the label (Miyato and
    #: Koyama 2018); needs a labelled dataset.  ``dcgan-cond`` is dcgan with this on.
    conditional: bool = False

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


@dataclass
class ConditionalDCGANConfig(DCGANConfig):
    conditional: bool = True


class ConditionalDCGAN(DCGAN):
    """``dcgan --set conditional=true`` under a name of its own, so ``ganzoo zoo`` trains it."""

    name = "dcgan-cond"
    description = (
        "Class-conditional DCGAN: conditional batch norm in G, projection D (Miyato and Koyama "
        "2018); dcgan with conditional=true."
    )
    Config = ConditionalDCGANConfig
