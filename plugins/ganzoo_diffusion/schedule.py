"""Noise schedules and the two samplers: ancestral DDPM and deterministic DDIM.

Both samplers walk an evenly spaced subsequence of the training timesteps
(``steps`` of them, always including the noisiest one), so one trained network
serves any number of steps.  With fewer steps than training timesteps the
ancestral sampler uses the respaced process of Nichol and Dhariwal (2021):
the betas are re-derived from the cumulative products at the kept timesteps,
which leaves the marginals q(x_t | x_0) unchanged.  Each step predicts x_0,
clips it to [-1, 1] and moves to the previous kept timestep.  All noise comes
from the caller's generator, drawn on its device, so a seed gives the same
images on any device.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

#: Predicts the noise of a batch ``x_t`` at integer timesteps ``t``.
Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def alpha_bars(kind: str, timesteps: int) -> torch.Tensor:
    """The cumulative products of (1 - beta) over ``timesteps`` steps, float64."""
    if kind == "linear":  # Ho et al. (2020), scaled so any length keeps their end points' spirit
        scale = 1000.0 / timesteps
        betas = torch.linspace(scale * 1e-4, scale * 0.02, timesteps, dtype=torch.float64)
        return torch.cumprod(1.0 - betas, dim=0)
    if kind == "cosine":  # Nichol and Dhariwal (2021), betas clipped at 0.999
        s = 0.008
        steps = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
        f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
        betas = (1.0 - f[1:] / f[:-1]).clamp(max=0.999)
        return torch.cumprod(1.0 - betas, dim=0)
    raise ValueError(f"unknown noise schedule {kind!r}")


def kept_timesteps(timesteps: int, steps: int) -> list[int]:
    """``steps`` timesteps evenly spaced from 0 to ``timesteps - 1``, noisiest first."""
    kept = torch.linspace(0, timesteps - 1, steps, dtype=torch.float64).round().long().tolist()
    return sorted(set(kept), reverse=True)


def _noise(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device):
    if generator is not None and generator.device.type != torch.device(device).type:
        return torch.randn(shape, generator=generator).to(device)
    return torch.randn(shape, generator=generator, device=device)


def sample(
    denoise: Denoiser,
    alpha_bar: torch.Tensor,
    shape: tuple[int, ...],
    steps: int,
    sampler: str,
    generator: torch.Generator | None,
    device: torch.device,
) -> torch.Tensor:
    """Images in [-1, 1] from pure noise, after ``steps`` network evaluations."""
    kept = kept_timesteps(len(alpha_bar), steps)
    x = _noise(shape, generator, device)
    for i, t in enumerate(kept):
        ab_t = float(alpha_bar[t])
        ab_prev = float(alpha_bar[kept[i + 1]]) if i + 1 < len(kept) else 1.0
        eps = denoise(x, torch.full((shape[0],), t, device=device, dtype=torch.long)).float()
        x0 = ((x - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)).clamp(-1.0, 1.0)
        if i + 1 == len(kept):
            return x0
        if sampler == "ddim":  # eta = 0: the noise direction implied by the clipped x_0
            eps = (x - math.sqrt(ab_t) * x0) / math.sqrt(1 - ab_t)
            x = math.sqrt(ab_prev) * x0 + math.sqrt(1 - ab_prev) * eps
        elif sampler == "ddpm":  # the posterior q(x_prev | x_t, x_0) of the respaced process
            beta = 1.0 - ab_t / ab_prev
            mean = (math.sqrt(ab_prev) * beta / (1 - ab_t)) * x0 + (
                math.sqrt(1 - beta) * (1 - ab_prev) / (1 - ab_t)
            ) * x
            std = math.sqrt(beta * (1 - ab_prev) / (1 - ab_t))
            x = mean + std * _noise(shape, generator, device)
        else:
            raise ValueError(f"unknown sampler {sampler!r}")
    return x
