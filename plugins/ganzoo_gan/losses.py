"""Adversarial criteria, chosen by a GAN config's ``loss`` field (as mimicry's ``loss_type``).

A criterion sees only what the discriminator (or critic) output; the models
own the networks, the latents and any regulariser.  Splitting a criterion into
``score`` (applied right after each forward pass) and ``discriminator`` /
``generator`` (applied once both scores exist) is what lets one skeleton in
``GANModel`` replay, operation for operation, the losses the models used to
write out by hand: autograd sums gradients in the order their operations were
recorded, so the same operations in another order would change training in
the last bits.

Every loss is computed in float32, whatever autocast gives the networks.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch.nn import functional as F

from ganzoo import ConfigError

#: The values a GAN config's ``loss`` field accepts.
LossName = Literal["bce", "wasserstein", "hinge"]

Logs = dict[str, Any]


class Criterion:
    """How D's outputs on real and fake images become D's and G's losses."""

    def score(self, out: torch.Tensor) -> torch.Tensor:
        """What is kept of one batch's D output; the default keeps every per-image value."""
        return out

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        """D's loss and its logs, from the ``score`` of a real and of a fake batch."""
        raise NotImplementedError

    def generator(self, fake: torch.Tensor) -> torch.Tensor:
        """G's loss from the ``score`` of a fake batch."""
        raise NotImplementedError


def bce_logits(logits: torch.Tensor, target: float) -> torch.Tensor:
    logits = logits.float()
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def bce_probabilities(probabilities: torch.Tensor, target: float) -> torch.Tensor:
    """``nn.BCELoss`` against a constant label, always in float32.

    Autocast refuses BCE on probabilities (it is unsafe in half precision), so
    it is computed outside autocast; BCELoss's own clamp of log at -100 is what
    keeps a saturated discriminator finite.
    """
    with torch.autocast(probabilities.device.type, enabled=False):
        p = probabilities.float()
        return F.binary_cross_entropy(p, torch.full_like(p, target))


class BCE(Criterion):
    """The GAN objective on logits, with the non-saturating generator loss.

    ``binary_cross_entropy_with_logits`` is the numerically safe form of the
    same objective, and autocast allows it.  G labels its fakes real: it
    maximises log D(G(z)) instead of minimising log(1 - D(G(z))), whose
    gradient vanishes while D easily rejects the fakes.
    """

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        loss = bce_logits(real, 1.0) + bce_logits(fake, 0.0)
        return loss, {
            "p_real": torch.sigmoid(real.detach().float()).mean(),
            "p_fake": torch.sigmoid(fake.detach().float()).mean(),
        }

    def generator(self, fake: torch.Tensor) -> torch.Tensor:
        return bce_logits(fake, 1.0)


class ProbabilityBCE(Criterion):
    """``BCE`` for a discriminator that ends in a sigmoid (the MLP reference's ``nn.BCELoss``)."""

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        loss = bce_probabilities(real, 1.0) + bce_probabilities(fake, 0.0)
        return loss, {
            "p_real": real.detach().float().mean(),
            "p_fake": fake.detach().float().mean(),
        }

    def generator(self, fake: torch.Tensor) -> torch.Tensor:
        return bce_probabilities(fake, 1.0)


class Wasserstein(Criterion):
    """The WGAN critic loss ``mean D(G(z)) - mean D(x)``; G minimises ``-mean D(G(z))``.

    Nothing here keeps the critic Lipschitz: without a penalty (``wgan-gp``
    adds one) or another constraint the estimate is not a distance and can
    grow without bound.
    """

    def score(self, out: torch.Tensor) -> torch.Tensor:
        return out.float().mean()

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        # Logged as the distance estimate, which shrinks as G improves.
        return fake - real, {"wasserstein": (real - fake).detach()}

    def generator(self, fake: torch.Tensor) -> torch.Tensor:
        return -fake


class Hinge(Criterion):
    """The hinge loss (Lim and Ye 2017; SAGAN, BigGAN): D stops pushing a score past the margin."""

    def discriminator(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, Logs]:
        real, fake = real.float(), fake.float()
        loss = F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()
        return loss, {"d_real": real.detach().mean(), "d_fake": fake.detach().mean()}

    def generator(self, fake: torch.Tensor) -> torch.Tensor:
        return -fake.float().mean()


CRITERIA: dict[str, Criterion] = {"bce": BCE(), "wasserstein": Wasserstein(), "hinge": Hinge()}


def criterion(name: str) -> Criterion:
    """The criterion called ``name``; a ConfigError for a config built without ``from_dict``."""
    try:
        return CRITERIA[name]
    except KeyError:
        raise ConfigError(
            f"unknown GAN loss {name!r}; choose one of {', '.join(CRITERIA)}"
        ) from None
