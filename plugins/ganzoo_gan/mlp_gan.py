"""The reference GAN: two MLPs and binary cross-entropy, the baseline for MNIST.

The network every other model is compared with, kept as plain as the
classic MNIST GAN: G maps a 100-d standard-normal latent through
256-512-1024 ReLU layers to 784 pixels with a Tanh; D maps 784 pixels
through 1024-512-256 ReLU layers to one Sigmoid probability; both train with
Adam (lr 2e-4, betas 0.5, 0.999), ``nn.BCELoss`` and the non-saturating G
loss, batch 64.  Only the image size is generalised: it flattens whatever
the dataset gives.  Another ``loss`` drops D's Sigmoid, as those criteria
need an unbounded score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .base import GANModel, check_betas, check_positive
from .losses import Criterion, LossName, ProbabilityBCE
from .nets import OutputRange


@dataclass
class MLPGANConfig:
    latent_dim: int = 100
    g_hidden: tuple[int, ...] = (256, 512, 1024)
    d_hidden: tuple[int, ...] = (1024, 512, 256)
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    #: Adversarial criterion; "bce" is the reference's (sigmoid D, nn.BCELoss).
    loss: LossName = "bce"

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
    """Outputs a probability (Sigmoid), as in the reference, not a logit, for ``loss="bce"``."""

    def __init__(self, config: MLPGANConfig, spec: Any) -> None:
        super().__init__()
        sizes = (spec.dims, *config.d_hidden)
        layers: list[nn.Module] = []
        for cin, cout in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(cin, cout), nn.ReLU()]
        layers.append(nn.Linear(sizes[-1], 1))
        if config.loss == "bce":
            layers.append(nn.Sigmoid())
        self.model = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images.flatten(1)).squeeze(1)


class MLPGAN(GANModel):
    name = "gan"
    description = (
        "Reference MLP GAN for MNIST: 256-512-1024 G, 1024-512-256 sigmoid D, BCE, Adam 2e-4."
    )
    Config = MLPGANConfig
    zoo_steps = 3000

    @property
    def criterion(self) -> Criterion:
        # D ends in a sigmoid for "bce", so the reference's BCE is on probabilities.
        return ProbabilityBCE() if self.config.loss == "bce" else super().criterion

    def build_generator(self) -> nn.Module:
        return MLPGenerator(self.config, self.spec)

    def build_discriminator(self) -> nn.Module:
        return MLPDiscriminator(self.config, self.spec)

    def learning_rates(self) -> tuple[float, float]:
        return self.config.lr, self.config.lr
