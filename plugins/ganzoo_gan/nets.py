"""Convolutional generator and discriminator shared by DCGAN and WGAN-GP.

Both start (or end) at a small square "base" grid and double (or halve) the
resolution with stride-2 4x4 convolutions, so one plan covers 8x8 digits,
28x28 MNIST and 32x32 CIFAR-sized images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ganzoo import DatasetSpec, SpecError

#: Largest base grid: bigger odd factors (e.g. 25x25) would leave most of the
#: image to one dense projection, which is not what these models are.
MAX_BASE = 7
MAX_RESAMPLES = 5


@dataclass(frozen=True)
class ConvPlan:
    """``base x base`` grid, resampled ``steps`` times by a factor of two."""

    base: int
    steps: int

    def channels(self, width: int, step: int) -> int:
        """Feature maps after ``step`` downsamplings in the discriminator (mirrored in G)."""
        return width * 2**step


def conv_plan(spec: DatasetSpec, model: str) -> ConvPlan:
    """The resampling plan for ``spec`` or a SpecError saying which sizes work."""
    supported = (
        "square images whose side is 2-7 times a power of two, e.g. 8x8, 28x28, 32x32, 64x64"
    )
    if spec.height != spec.width:
        raise SpecError(
            f"{model} needs square images, got {spec.height}x{spec.width}; "
            f"resize the dataset or use the 'gan' model (MLP, any shape). It supports {supported}."
        )
    side = spec.height
    base, steps = side, 0
    while base % 2 == 0 and base // 2 >= 4 and steps < MAX_RESAMPLES:
        base //= 2
        steps += 1
    if steps < 2 and base % 2 == 0 and base // 2 >= 2:
        base //= 2  # tiny images (8x8): start from 2x2 so G still has two upsamplings
        steps += 1
    if steps < 1 or base > MAX_BASE:
        raise SpecError(
            f"{model} cannot build convolutions for {side}x{side} images; it supports {supported}. "
            "Use the 'gan' model (MLP, any shape) or resize the dataset."
        )
    return ConvPlan(base, steps)


class OutputRange(nn.Module):
    """Maps tanh's (-1, 1) onto the dataset's value range (identity for the default range)."""

    def __init__(self, value_range: tuple[float, float]) -> None:
        super().__init__()
        low, high = value_range
        self.scale = (high - low) / 2.0
        self.shift = (high + low) / 2.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale == 1.0 and self.shift == 0.0:
            return x
        return x * self.scale + self.shift


class ConvGenerator(nn.Module):
    """Project-and-reshape, then transposed convolutions with batch norm (Radford et al.)."""

    def __init__(self, latent_dim: int, width: int, spec: DatasetSpec, plan: ConvPlan) -> None:
        super().__init__()
        top = plan.channels(width, plan.steps - 1)
        self.top = top
        self.base = plan.base
        self.project = nn.Sequential(
            nn.Linear(latent_dim, top * plan.base**2, bias=False),
        )
        layers: list[nn.Module] = [nn.BatchNorm2d(top), nn.ReLU(inplace=True)]
        for step in range(plan.steps - 1, 0, -1):
            cin, cout = plan.channels(width, step), plan.channels(width, step - 1)
            layers += [
                nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            ]
        layers += [
            nn.ConvTranspose2d(width, spec.channels, 4, 2, 1),
            nn.Tanh(),
            OutputRange(spec.value_range),
        ]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(z.shape[0], self.top, self.base, self.base)
        return self.body(h)


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        # One group = normalise over (C, H, W) per sample: layer norm that needs no
        # fixed spatial size, and unlike batch norm keeps samples independent,
        # which the gradient penalty assumes.
        return nn.GroupNorm(1, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown normalisation {kind!r}")


class ConvDiscriminator(nn.Module):
    """Strided convolutions with LeakyReLU(0.2) to one logit (or critic value) per image.

    The first layer is never normalised (Radford et al.); the rest use ``norm``.
    """

    def __init__(self, width: int, spec: DatasetSpec, plan: ConvPlan, norm: str) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = spec.channels
        for step in range(plan.steps):
            cout = plan.channels(width, step)
            layers.append(nn.Conv2d(cin, cout, 4, 2, 1, bias=step == 0 or norm == "none"))
            if step > 0:
                layers.append(_norm(norm, cout))
            layers.append(nn.LeakyReLU(0.2))
            cin = cout
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(cin * plan.base**2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1)).squeeze(1)


def dcgan_init(module: nn.Module) -> None:
    """Radford et al.'s initialisation: N(0, 0.02) weights, BN scales N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose scale and shift are looked up per class (de Vries et al. 2017).

    The statistics are shared by all classes; only the affine part depends on
    the label, which is how Miyato and Koyama (2018) condition the generator.
    """

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.scale = nn.Embedding(num_classes, channels)
        self.shift = nn.Embedding(num_classes, channels)
        nn.init.normal_(self.scale.weight, 1.0, 0.02)  # as dcgan_init treats batch norm scales
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        scale, shift = self.scale(labels)[:, :, None, None], self.shift(labels)[:, :, None, None]
        return self.norm(x) * scale + shift


class ConditionalConvGenerator(nn.Module):
    """``ConvGenerator`` with each batch norm made class-conditional."""

    def __init__(
        self, latent_dim: int, width: int, spec: DatasetSpec, plan: ConvPlan, num_classes: int
    ) -> None:
        super().__init__()
        self.top, self.base = plan.channels(width, plan.steps - 1), plan.base
        self.project = nn.Linear(latent_dim, self.top * plan.base**2, bias=False)
        self.norms = nn.ModuleList([ConditionalBatchNorm2d(self.top, num_classes)])
        self.ups = nn.ModuleList()
        for step in range(plan.steps - 1, 0, -1):
            cin, cout = plan.channels(width, step), plan.channels(width, step - 1)
            self.ups.append(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False))
            self.norms.append(ConditionalBatchNorm2d(cout, num_classes))
        self.last = nn.ConvTranspose2d(width, spec.channels, 4, 2, 1)
        self.output = OutputRange(spec.value_range)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(z.shape[0], self.top, self.base, self.base)
        h = torch.relu(self.norms[0](h, labels))
        for up, norm in zip(self.ups, self.norms[1:], strict=True):
            h = torch.relu(norm(up(h), labels))
        return self.output(torch.tanh(self.last(h)))


class ProjectionDiscriminator(ConvDiscriminator):
    """``ConvDiscriminator`` plus the projection of Miyato and Koyama (2018).

    The logit is ``head(h) + <embed(y), h>`` for the image's features ``h``: the
    inner product with a class embedding is what makes D judge whether the
    image fits its label, not only whether it looks real.
    """

    def __init__(
        self, width: int, spec: DatasetSpec, plan: ConvPlan, norm: str, num_classes: int
    ) -> None:
        super().__init__(width, spec, plan, norm)
        self.embed = nn.Embedding(num_classes, self.head.in_features)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.body(x).flatten(1)
        return self.head(h).squeeze(1) + (self.embed(labels) * h).sum(1)
