"""The ``ddpm`` model: a U-Net trained to predict the noise of Ho et al.'s forward process.

Training is the simple ε-MSE loss at a uniformly drawn timestep, one phase.
How images are drawn (sampler, number of steps, guidance scale) is chosen at
sampling time: those config fields are ``sampling_fields``, so ``ganzoo
sample``/``ganzoo eval`` can change them with ``--set`` without retraining, and
every evaluation records them with the number of network evaluations they cost.
See docs/models/diffusion.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from ganzoo import Batch, Model, Phase, SpecError

from .schedule import alpha_bars, kept_timesteps, sample
from .unet import UNet

#: Image sides the U-Net's resolution plan is made for (two halvings: 28-14-7, 32-16-8).
SIDES = (28, 32)


@dataclass
class DDPMConfig:
    #: Feature maps of the first level; each later level has ``base_channels * mult``.
    base_channels: int = 32
    channel_mult: tuple[int, ...] = (1, 2)
    num_res_blocks: int = 1
    #: Side of the pixel patches folded into channels before the first convolution.
    patch_size: int = 2
    attention_heads: int = 4
    dropout: float = 0.0
    schedule: Literal["linear", "cosine"] = "linear"
    timesteps: int = 1000
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    #: Linear learning-rate warmup, in optimizer steps.
    warmup_steps: int = 100
    #: Class-conditional: the U-Net sees the label (classifier-free guidance needs label_dropout).
    conditional: bool = False
    #: Share of training labels replaced by "no label", which trains the unconditional model too.
    label_dropout: float = 0.1
    #: Sampling time: "ddim" (deterministic, Song et al.) or "ddpm" (ancestral).
    sampler: Literal["ddim", "ddpm"] = "ddim"
    #: Sampling time: network evaluations per image (twice as many with guidance).
    sample_steps: int = 50
    #: Sampling time: eps_uncond + scale * (eps_cond - eps_uncond); 1 is plain conditional.
    guidance_scale: float = 1.0

    def validate(self) -> None:
        if self.base_channels < 8 or not self.channel_mult or min(self.channel_mult) < 1:
            raise ValueError("base_channels must be >= 8 and channel_mult positive integers")
        if self.num_res_blocks < 1 or self.attention_heads < 1 or self.patch_size not in (1, 2):
            raise ValueError("num_res_blocks, attention_heads >= 1; patch_size 1 or 2")
        if self.base_channels * self.channel_mult[-1] % self.attention_heads:
            raise ValueError("the lowest level's channels must be divisible by attention_heads")
        if self.timesteps < 2 or not 1 <= self.sample_steps <= self.timesteps:
            raise ValueError("timesteps must be >= 2 and sample_steps between 1 and timesteps")
        if self.lr <= 0 or self.warmup_steps < 0 or not 0.0 <= self.dropout < 1.0:
            raise ValueError("lr must be positive, warmup_steps >= 0, dropout in [0, 1)")
        if not 0.0 <= self.label_dropout < 1.0:
            raise ValueError("label_dropout must lie in [0, 1)")
        if not (0.0 <= self.beta1 < 1.0 and 0.0 <= self.beta2 < 1.0):
            raise ValueError("beta1 and beta2 must lie in [0, 1)")
        if self.guidance_scale != 1.0 and not (self.conditional and self.label_dropout > 0):
            raise ValueError(
                "guidance_scale other than 1 needs conditional=true and label_dropout > 0"
            )


class DDPM(Model):
    """Denoising diffusion with a noise-predicting U-Net; see docs/models/diffusion.md."""

    name = "ddpm"
    family = "diffusion"
    description = "DDPM: noise-predicting U-Net, 1000 steps; DDIM or ancestral sampling (NFE set at sampling time)."
    Config = DDPMConfig
    ema_modules = ("unet",)
    ema_by_default = True
    sampling_fields = ("sampler", "sample_steps", "guidance_scale")
    default_batch_size = 64
    zoo_steps = 1500
    #: A 200-step average: the zoo's runs are thousands of steps, not the paper's 800k.
    ema_decay = 0.995

    config: DDPMConfig

    @classmethod
    def check_spec(cls, spec) -> None:
        if spec.channels not in (1, 3) or spec.height != spec.width or spec.height not in SIDES:
            raise SpecError(
                f"ddpm's U-Net is made for 1- or 3-channel 28x28 and 32x32 images, got "
                f"{spec.channels}x{spec.height}x{spec.width}; resize the dataset or pick another model"
            )

    @property
    def conditional(self) -> bool:
        return self.config.conditional

    def build(self) -> None:
        cfg, spec = self.config, self.spec
        side = spec.height // cfg.patch_size
        if side % 2 ** (len(cfg.channel_mult) - 1):
            raise SpecError(
                f"ddpm: {spec.height}x{spec.width} in {cfg.patch_size}x{cfg.patch_size} patches "
                f"cannot be halved {len(cfg.channel_mult) - 1} times; shorten channel_mult"
            )
        self.unet = UNet(
            spec.channels, cfg.patch_size, cfg.base_channels, tuple(cfg.channel_mult),
            cfg.num_res_blocks, cfg.attention_heads, cfg.dropout,
            spec.num_classes if cfg.conditional else 0,
        )  # fmt: skip
        bars = alpha_bars(cfg.schedule, cfg.timesteps)
        self.register_buffer("alpha_bar", bars.float(), persistent=False)
        self.register_buffer("alpha_bar64", bars, persistent=False)

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg = self.config
        adam = torch.optim.Adam(self.unet.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
        return {"unet": adam}

    def configure_schedulers(self, optimizers):
        warmup = self.config.warmup_steps
        return {
            "unet": torch.optim.lr_scheduler.LambdaLR(
                optimizers["unet"], lambda step: min(1.0, (step + 1) / warmup) if warmup else 1.0
            )
        }

    def phases(self) -> list[Phase]:
        return [Phase("ddpm", "unet", self._loss)]

    def _unit(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.spec.value_range
        return (x - low) * (2.0 / (high - low)) - 1.0

    def _loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x0 = self._unit(batch.x)
        t = torch.randint(0, self.config.timesteps, (batch.size,), device=x0.device)
        noise = torch.randn_like(x0)
        ab = self.alpha_bar[t].view(-1, 1, 1, 1)
        xt = ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise
        labels = None
        if self.conditional:
            if batch.y is None:
                raise SpecError("ddpm with conditional=true needs labelled training data")
            drop = torch.rand(batch.size, device=x0.device) < self.config.label_dropout
            labels = torch.where(drop, self.spec.num_classes, batch.y)
        loss = F.mse_loss(self.unet(xt, t, labels).float(), noise)
        return loss, {}

    def nfe(self) -> int:
        """Network evaluations per image: each kept timestep once, twice when guided."""
        steps = len(kept_timesteps(self.config.timesteps, self.config.sample_steps))
        return steps * (2 if self._guided() else 1)

    def _guided(self) -> bool:
        return self.conditional and self.config.guidance_scale not in (0.0, 1.0)

    def _denoiser(self, labels: torch.Tensor | None):
        if not self.conditional:
            return lambda x, t: self.unet(x, t)
        scale, null = self.config.guidance_scale, torch.full_like(labels, self.spec.num_classes)
        if scale == 1.0:
            return lambda x, t: self.unet(x, t, labels)
        if scale == 0.0:
            return lambda x, t: self.unet(x, t, null)

        def guided(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            both = self.unet(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, null]))
            cond, uncond = both.float().chunk(2)
            return uncond + scale * (cond - uncond)

        return guided

    @torch.no_grad()
    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        cfg, spec = self.config, self.spec
        if self.conditional:
            labels = self.sample_labels(n, labels)
        shape = (n, spec.channels, spec.height, spec.width)
        x = sample(
            self._denoiser(labels), self.alpha_bar64, shape, cfg.sample_steps, cfg.sampler,
            generator, self.device,
        )  # fmt: skip
        low, high = spec.value_range
        return ((x + 1.0) * ((high - low) / 2.0) + low).clamp(min(low, high), max(low, high))
