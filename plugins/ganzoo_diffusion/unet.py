"""The noise-prediction network: a small U-Net in the layout of Ho et al. (2020).

Residual blocks take the timestep (and, for conditional models, the class) as
an embedding added inside each block; self-attention runs only at the lowest
resolution, where it costs least and sees the whole image.  Resolutions are
halved by strided convolutions and restored by nearest-neighbour upsampling,
so the same network serves 28x28 (28, 14, 7) and 32x32 (32, 16, 8) images.
The last layer of every residual branch and of the output starts at zero, so
the untrained network predicts zero noise and each block starts as the identity.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps (Vaswani et al.), ``len(t) x dim``."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


def _zero(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb_dim: int, dropout: float) -> None:
        super().__init__()
        self.in_layers = nn.Sequential(_norm(cin), nn.SiLU(), nn.Conv2d(cin, cout, 3, padding=1))
        self.emb = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, cout))
        self.out_layers = nn.Sequential(
            _norm(cout), nn.SiLU(), nn.Dropout(dropout), _zero(nn.Conv2d(cout, cout, 3, padding=1))
        )
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.in_layers(x) + self.emb(emb)[:, :, None, None]
        return self.skip(x) + self.out_layers(h)


class Attention(nn.Module):
    """Multi-head self-attention over the positions of a feature map, as a residual branch."""

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm = _norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = _zero(nn.Conv2d(channels, channels, 1))

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv(self.norm(x)).view(b, 3, self.heads, c // self.heads, h * w)
        q, k, v = qkv.transpose(-1, -2).unbind(1)  # each b x heads x hw x head_dim
        out = F.scaled_dot_product_attention(q, k, v)
        return x + self.proj(out.transpose(-1, -2).reshape(b, c, h, w))


class UNet(nn.Module):
    """Predicts the noise in ``x_t`` from ``x_t``, ``t`` and, when conditional, a label.

    ``num_classes`` > 0 adds a class embedding with one extra row, index
    ``num_classes``, for "no label": the unconditional prediction that
    classifier-free guidance needs.
    """

    def __init__(
        self,
        channels: int,
        patch: int,
        base: int,
        mult: tuple[int, ...],
        blocks: int,
        heads: int,
        dropout: float,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        emb_dim = 4 * base
        self.base = base
        self.time = nn.Sequential(nn.Linear(base, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.label = nn.Embedding(num_classes + 1, emb_dim) if num_classes else None
        self.patch = patch
        self.stem = nn.Conv2d(channels * patch * patch, base, 3, padding=1)
        widths = [base * m for m in mult]
        self.down, skips, cin = nn.ModuleList(), [base], base
        for level, width in enumerate(widths):
            for _ in range(blocks):
                self.down.append(ResBlock(cin, width, emb_dim, dropout))
                cin = width
                skips.append(cin)
            if level < len(widths) - 1:
                self.down.append(nn.Conv2d(cin, cin, 3, stride=2, padding=1))
                skips.append(cin)
        self.middle = nn.ModuleList(
            [ResBlock(cin, cin, emb_dim, dropout), Attention(cin, heads),
             ResBlock(cin, cin, emb_dim, dropout)]
        )  # fmt: skip
        self.up = nn.ModuleList()
        for level in reversed(range(len(widths))):
            for _ in range(blocks + 1):
                self.up.append(ResBlock(cin + skips.pop(), widths[level], emb_dim, dropout))
                cin = widths[level]
                if level == len(widths) - 1:
                    self.up.append(Attention(cin, heads))
            if level > 0:
                self.up.append(Upsample(cin))
        self.out = nn.Sequential(
            _norm(cin), nn.SiLU(), _zero(nn.Conv2d(cin, channels * patch * patch, 3, padding=1))
        )

    def embed(self, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        emb = self.time(timestep_embedding(t, self.base))
        if self.label is not None:
            if labels is None:
                raise ValueError("a conditional network needs labels (num_classes for none)")
            emb = emb + self.label(labels)
        return emb

    def forward(
        self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        emb = self.embed(t, labels)
        h = self.stem(F.pixel_unshuffle(x, self.patch) if self.patch > 1 else x)
        hs = [h]
        for layer in self.down:
            h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
            hs.append(h)
        for layer in self.middle:
            h = layer(h, emb)
        for layer in self.up:
            if isinstance(layer, ResBlock):
                h = layer(torch.cat([h, hs.pop()], dim=1), emb)
            else:
                h = layer(h)
        out = self.out(h)
        return F.pixel_shuffle(out, self.patch) if self.patch > 1 else out


class Upsample(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
