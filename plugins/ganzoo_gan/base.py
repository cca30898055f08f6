"""What every GAN here shares: the training step, latents, sampling, optimizers, config checks.

``GANModel`` writes the D and G losses once, around the criterion named by
the config's ``loss`` field; a subclass supplies only its networks, learning
rates and, if it has one, a regulariser of D.  ``ConvGANModel`` adds what
DCGAN and WGAN-GP share: the convolution plan and the networks built on it.
"""

from __future__ import annotations

import dataclasses
from abc import ABCMeta, abstractmethod
from typing import Any, ClassVar, NamedTuple

import torch
from torch import nn

from ganzoo import Batch, DatasetSpec, Model, Phase, SpecError, noise

from .losses import Criterion, criterion
from .nets import (
    ConditionalConvGenerator,
    ConvDiscriminator,
    ConvGenerator,
    ConvPlan,
    ProjectionDiscriminator,
    conv_plan,
)


def check_positive(config: object, *names: str) -> None:
    """``validate()`` helper: raise ValueError naming the first non-positive field."""
    for name in names:
        value = getattr(config, name)
        if value <= 0:
            raise ValueError(f"{name} must be > 0, got {value}")


def check_betas(betas: tuple[float, float]) -> None:
    if not all(0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"betas must both lie in [0, 1), got {betas}")


class Penalty(NamedTuple):
    """A regulariser of D, added to its loss as ``weight * value`` and logged as ``name``."""

    name: str
    weight: float
    value: torch.Tensor


class GANModel(Model, metaclass=ABCMeta):
    """A generator ``G`` of standard-normal latents against a discriminator (or critic) ``D``.

    A subclass must provide (abstract methods fail at instantiation, missing
    config fields when the class is defined, not deep inside training):

    * ``build_generator()`` and ``build_discriminator()``;
    * ``learning_rates()``, the Adam learning rates of G and D;
    * a ``Config`` with the fields in ``config_fields``: ``latent_dim`` (G's
      input size), ``loss`` (the criterion, see ``losses.py``) and ``betas``.

    It may override ``d_penalty`` (a regulariser of D) and ``d_repeat``.
    """

    family = "gan"
    ema_modules = ("G",)

    #: Fields every subclass's ``Config`` must have (checked when the subclass is defined).
    config_fields: ClassVar[tuple[str, ...]] = ("latent_dim", "loss", "betas")
    #: Discriminator (critic) updates per generator update.
    d_repeat: int = 1

    G: nn.Module
    D: nn.Module

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Check ``Config`` now, so an incomplete plugin fails when it registers, not mid-run."""
        super().__init_subclass__(**kwargs)
        config = cls.__dict__.get("Config")
        if config is None:
            return
        names = {f.name for f in dataclasses.fields(config)}
        missing = [name for name in cls.config_fields if name not in names]
        if missing:
            raise TypeError(
                f"{cls.__name__}.Config lacks {', '.join(missing)}; "
                f"{cls.__name__} needs config fields {', '.join(cls.config_fields)}"
            )

    @abstractmethod
    def build_generator(self) -> nn.Module:
        """G: latents of size ``latent_dim`` to images in ``spec.value_range``."""

    @abstractmethod
    def build_discriminator(self) -> nn.Module:
        """D: images to one output per image, as the configured criterion expects."""

    @abstractmethod
    def learning_rates(self) -> tuple[float, float]:
        """The Adam learning rates of G and D, in that order."""

    @property
    def latent_dim(self) -> int:
        """Size of G's input, from the config (every GAN config has it)."""
        return self.config.latent_dim

    @property
    def criterion(self) -> Criterion:
        """The adversarial objective named by ``config.loss``."""
        return criterion(self.config.loss)

    def build(self) -> None:
        # An unknown loss (a config made without from_dict) fails before any
        # weights exist; G is created before D, which fixes the RNG draws.
        _ = self.criterion
        self.G = self.build_generator()
        self.D = self.build_discriminator()

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        lr_g, lr_d = self.learning_rates()
        betas = tuple(self.config.betas)
        return {
            "G": torch.optim.Adam(self.G.parameters(), lr=lr_g, betas=betas),
            "D": torch.optim.Adam(self.D.parameters(), lr=lr_d, betas=betas),
        }

    def phases(self) -> list[Phase]:
        """D on a fresh real batch, then G, which needs only the batch size."""
        return [
            Phase("D", optimizer="D", loss=self.d_loss, repeat=self.d_repeat),
            Phase("G", optimizer="G", loss=self.g_loss, new_batch=False),
        ]

    @property
    def conditional(self) -> bool:
        """Class-conditional when the config has ``conditional`` set (``dcgan``'s field)."""
        return bool(getattr(self.config, "conditional", False))

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return self.G(z) if labels is None else self.G(z, labels)

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        return self.D(x) if labels is None else self.D(x, labels)

    def batch_labels(self, batch: Batch) -> torch.Tensor | None:
        """The labels a conditional GAN's D and G see: the real batch's, for real and fake alike."""
        if not self.conditional:
            return None
        if batch.y is None:
            raise SpecError(f"{self.name} with conditional=true needs labelled training data")
        return batch.y

    def latents(self, n: int, device: torch.device) -> torch.Tensor:
        """Training latents, from torch's global RNG (seeded and checkpointed by the trainer)."""
        return torch.randn(n, self.latent_dim, device=device)

    def d_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> Penalty | None:
        """A regulariser of D on this step's real and (detached) fake images; none by default."""
        return None

    def d_loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, Any]]:
        """The criterion's D loss plus ``d_penalty``.

        The steps run in the order the models always ran them (both D passes,
        the penalty, then the criterion's sums), so autograd accumulates
        gradients in the same order and training stays bitwise reproducible.
        """
        crit, labels = self.criterion, self.batch_labels(batch)
        with torch.no_grad():  # no gradient may reach G from D's update
            fake = self.generate(self.latents(batch.size, batch.x.device), labels).detach()
        # Real and fake go through D separately, so each batch-norm batch is
        # all-real or all-fake, as in DCGAN's reference code.
        real_score = crit.score(self.discriminate(batch.x, labels))
        fake_score = crit.score(self.discriminate(fake, labels))
        penalty = self.d_penalty(batch.x, fake)
        loss, logs = crit.discriminator(real_score, fake_score)
        if penalty is not None:
            loss = loss + penalty.weight * penalty.value
            logs[penalty.name] = penalty.value.detach()
        return loss, logs

    def g_loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, Any]]:
        crit, labels = self.criterion, self.batch_labels(batch)
        out = self.discriminate(
            self.generate(self.latents(batch.size, batch.x.device), labels), labels
        )
        return crit.generator(crit.score(out)), {}

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        # Callers sample through ganzoo.draw_samples, in eval mode: batch norm then
        # uses its running statistics, so an image does not depend on its batch.
        z = noise(n, self.latent_dim, self.device, generator)
        labels = self.sample_labels(n, labels) if self.conditional else None
        images = self.generate(z, labels).float()
        low, high = self.spec.value_range
        return images.clamp_(min(low, high), max(low, high))


class ConvGANModel(GANModel):
    """DCGAN's convolutional G and D on the resampling plan ``conv_plan`` finds for the images.

    Subclasses choose D's normalisation with ``discriminator_norm``; their
    config also needs ``width``, ``lr_g`` and ``lr_d``.
    """

    config_fields = (*GANModel.config_fields, "width", "lr_g", "lr_d")

    @classmethod
    def check_spec(cls, spec: DatasetSpec) -> None:
        conv_plan(spec, cls.name)

    @property
    def plan(self) -> ConvPlan:
        return conv_plan(self.spec, self.name)

    def discriminator_norm(self) -> str:
        """Normalisation of D's inner layers: batch norm, as in DCGAN."""
        return "batch"

    def build_generator(self) -> nn.Module:
        if self.conditional:  # class-conditional batch norm (Miyato and Koyama 2018)
            return ConditionalConvGenerator(
                self.latent_dim, self.config.width, self.spec, self.plan, self.spec.num_classes
            )
        return ConvGenerator(self.latent_dim, self.config.width, self.spec, self.plan)

    def build_discriminator(self) -> nn.Module:
        norm = self.discriminator_norm()
        if self.conditional:  # the projection discriminator
            return ProjectionDiscriminator(
                self.config.width, self.spec, self.plan, norm, self.spec.num_classes
            )
        return ConvDiscriminator(self.config.width, self.spec, self.plan, norm=norm)

    def learning_rates(self) -> tuple[float, float]:
        return self.config.lr_g, self.config.lr_d
