"""The ``transformer`` model: ImageGPT-style next-token prediction over quantized patches.

Training is teacher-forced cross-entropy from a start token; sampling decodes
one token at a time through a key/value cache.  See docs/models/transformer.md
for the tokenisation and what its bits/dim mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ganzoo import Batch, Model, Phase, SpecError

from .net import TokenTransformer
from .tokens import PatchTokenizer, auto_tokenisation, max_levels, vocab_within

#: Largest vocabulary accepted: the output layer is d_model x vocab.
MAX_VOCAB = 65536
#: Longest sequence accepted: attention costs grow with its square.
MAX_TOKENS = 4096


@dataclass
class TransformerConfig:
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    mlp_ratio: int = 4
    dropout: float = 0.0
    #: Patch side in pixels; 0 picks 2 for grey images and 1 for colour.
    patch_size: int = 0
    #: Quantization levels per channel; 0 picks the most that keep the vocabulary <= max_vocab.
    levels: int = 0
    max_vocab: int = 512
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.95
    weight_decay: float = 0.01
    #: Linear learning-rate warmup, in optimizer steps.
    warmup_steps: int = 200
    #: Softmax temperature used by ``sample``; below 1 trades diversity for cleaner images.
    temperature: float = 1.0
    #: Images decoded together while sampling (bounds the key/value cache's memory).
    sample_batch_size: int = 256
    #: Class-conditional: the sequence starts with a class token instead of the start token.
    conditional: bool = False

    def validate(self) -> None:
        if self.d_model < 1 or self.n_layers < 1 or self.n_heads < 1 or self.mlp_ratio < 1:
            raise ValueError("d_model, n_layers, n_heads and mlp_ratio must be positive")
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must lie in [0, 1)")
        if self.patch_size < 0:
            raise ValueError("patch_size must be 0 (auto) or positive")
        if self.levels != 0 and not 2 <= self.levels <= 256:
            raise ValueError("levels must be 0 (auto) or between 2 and 256")
        if self.max_vocab < 2:
            raise ValueError("max_vocab must be at least 2")
        if self.lr <= 0 or self.weight_decay < 0 or self.warmup_steps < 0:
            raise ValueError("lr must be positive; weight_decay and warmup_steps non-negative")
        if self.temperature <= 0:
            raise ValueError("temperature must be positive")
        if not (0.0 <= self.beta1 < 1.0 and 0.0 <= self.beta2 < 1.0):
            raise ValueError("beta1 and beta2 must lie in [0, 1)")
        if self.sample_batch_size < 1:
            raise ValueError("sample_batch_size must be positive")


def _tokenisation(cfg: TransformerConfig, channels: int) -> tuple[int, int]:
    patch, levels = auto_tokenisation(channels, cfg.max_vocab)
    if cfg.patch_size:
        patch = cfg.patch_size
        levels = max_levels(channels * patch * patch, cfg.max_vocab)
    if cfg.levels:
        levels = cfg.levels
    return patch, levels


class ImageTransformer(Model):
    """Decoder-only Transformer over patch tokens; see docs/models/transformer.md."""

    name = "transformer"
    family = "autoregressive"
    description = (
        "ImageGPT-style Transformer over quantized patch tokens (default 2x2 grey, 1x1 colour), "
        "KV-cached sampling."
    )
    Config = TransformerConfig
    ema_modules = ("net",)
    default_batch_size = 32
    zoo_steps = 500
    sampling_fields = ("temperature",)

    config: TransformerConfig

    @property
    def conditional(self) -> bool:
        return self.config.conditional

    def nfe(self) -> int:
        """One network evaluation per token (each a single-token pass through the cache)."""
        return self.tokenizer.num_tokens

    @classmethod
    def check_spec(cls, spec) -> None:
        if spec.channels < 1 or spec.height < 1 or spec.width < 1:
            raise SpecError(f"transformer needs a non-empty image shape, got {spec}")

    def _check_tokenisation(self, patch: int, levels: int) -> None:
        spec = self.spec
        if levels < 2:
            raise SpecError(
                f"transformer: max_vocab={self.config.max_vocab} leaves fewer than 2 levels per "
                f"value for {spec.channels}-channel {patch}x{patch} patches; raise max_vocab or "
                "use --set patch_size=1"
            )
        tokens = math.ceil(spec.height / patch) * math.ceil(spec.width / patch)
        if tokens > MAX_TOKENS:
            raise SpecError(
                f"transformer: {spec.height}x{spec.width} images in {patch}x{patch} patches make "
                f"{tokens} tokens (limit {MAX_TOKENS}); use a larger --set patch_size"
            )
        digits = spec.channels * patch * patch
        if not vocab_within(levels, digits, MAX_VOCAB):
            vocab = f"{levels**digits}" if vocab_within(levels, digits, 10**30) else "more"
            raise SpecError(
                f"transformer: {levels} levels on {spec.channels}-channel {patch}x{patch} patches "
                f"make {vocab} token ids (limit {MAX_VOCAB}); lower --set levels or patch_size"
            )

    def build(self) -> None:
        cfg, spec = self.config, self.spec
        patch, levels = _tokenisation(cfg, spec.channels)
        self._check_tokenisation(patch, levels)
        self.tokenizer = PatchTokenizer(
            spec.channels, spec.height, spec.width, patch, levels, tuple(spec.value_range)
        )
        self.net = TokenTransformer(
            vocab_size=self.tokenizer.vocab_size,
            max_len=self.tokenizer.num_tokens,
            d_model=cfg.d_model,
            n_layers=cfg.n_layers,
            n_heads=cfg.n_heads,
            mlp_ratio=cfg.mlp_ratio,
            dropout=cfg.dropout,
            start_tokens=spec.num_classes if cfg.conditional else 1,
        )

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        cfg = self.config
        decay, no_decay = [], []
        for name, param in self.named_parameters():
            is_matrix = param.dim() >= 2 and "emb" not in name
            (decay if is_matrix else no_decay).append(param)
        groups = [
            {"params": decay, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        return {"transformer": torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))}

    def configure_schedulers(self, optimizers):
        """Linear warmup over ``warmup_steps`` optimizer steps, then a constant rate."""
        warmup = self.config.warmup_steps
        return {
            "transformer": torch.optim.lr_scheduler.LambdaLR(
                optimizers["transformer"],
                lambda step: 1.0 if warmup == 0 else min(1.0, (step + 1) / warmup),
            )
        }

    def phases(self) -> list[Phase]:
        return [Phase("transformer", "transformer", self._loss)]

    def start(self, n: int, labels: torch.Tensor | None, device: torch.device) -> torch.Tensor:
        """``n x 1`` first tokens: the start token, or the class token of each label."""
        first = torch.full((n, 1), self.tokenizer.vocab_size, dtype=torch.long, device=device)
        return first if labels is None else first + labels.view(n, 1).to(device)

    def logits(self, tokens: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced logits: row t predicts ``tokens[:, t]`` from ``tokens[:, :t]``."""
        start = self.start(tokens.shape[0], labels, tokens.device)
        return self.net(torch.cat([start, tokens[:, :-1]], dim=1))

    def _nll(
        self, batch: Batch, labels: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-image NLL in nats of the quantized image (given ``labels``), and the tokens."""
        tokens = self.tokenizer.encode(batch.x)
        logits = self.logits(tokens, labels).float()
        nll = F.cross_entropy(logits.transpose(1, 2), tokens, reduction="none").sum(1)
        return nll, tokens

    def _labels(self, batch: Batch) -> torch.Tensor | None:
        if not self.conditional:
            return None
        if batch.y is None:
            raise SpecError("transformer with conditional=true needs labelled training data")
        return batch.y

    def _loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        nll, tokens = self._nll(batch, self._labels(batch))
        loss = nll.mean() / tokens.shape[1]  # nats per token
        bpd = nll.detach().mean() / (self.spec.dims * math.log(2))
        return loss, {"bpd": bpd}  # the trainer logs the loss itself

    def bits_per_dim(self, batch: Batch) -> torch.Tensor:
        """NLL of the *quantized* image in bits per pixel-channel (not an 8-bit code length).

        A conditional model's is the marginal -log sum_y p(x | y) p(y) under uniform
        classes, one pass per class, so it compares with an unconditional model's.
        """
        if not self.conditional:
            nll, _ = self._nll(batch)
        else:
            k = self.spec.num_classes
            per_class = [
                self._nll(batch, torch.full((batch.size,), c, device=batch.x.device))[0]
                for c in range(k)
            ]
            nll = math.log(k) - torch.logsumexp(-torch.stack(per_class), dim=0)
        return nll / (self.spec.dims * math.log(2))

    @torch.no_grad()
    def sample_tokens(
        self,
        n: int,
        generator: torch.Generator | None = None,
        temperature: float | None = None,
        use_cache: bool = True,
        labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``n x T`` token ids, decoded left to right.

        Each token is drawn by inverting the softmax CDF at a uniform number;
        all uniforms are drawn up front (on the generator's device), so a seed
        gives the same images with or without the cache and on any device.
        """
        temp = self.config.temperature if temperature is None else temperature
        if temp <= 0:
            raise ValueError("temperature must be positive")
        device, steps = self.device, self.tokenizer.num_tokens
        if generator is not None:
            uniforms = torch.rand(n, steps, generator=generator, device=generator.device)
        else:
            uniforms = torch.rand(n, steps, device=device)
        uniforms = uniforms.to(device)
        chunks = []
        for lo in range(0, n, self.config.sample_batch_size):
            u = uniforms[lo : lo + self.config.sample_batch_size]
            part = None if labels is None else labels[lo : lo + self.config.sample_batch_size]
            chunks.append(self._decode(u, temp, use_cache, part))
        if not chunks:
            return torch.zeros(0, steps, dtype=torch.long, device=device)
        return torch.cat(chunks)

    def _decode(
        self, uniforms: torch.Tensor, temp: float, use_cache: bool, labels: torch.Tensor | None
    ) -> torch.Tensor:
        b, steps = uniforms.shape
        start = self.start(b, labels, uniforms.device)
        cache = self.net.new_cache(b, self.net.pos_emb) if use_cache else None
        seq = start
        out = []
        for t in range(steps):
            if cache is not None:
                logits = self.net(seq[:, -1:], cache)[:, -1]
            else:
                logits = self.net(seq)[:, -1]
            probs = torch.softmax(logits.float() / temp, dim=-1)
            cdf = probs.cumsum(-1)
            token = torch.searchsorted(cdf, uniforms[:, t : t + 1] * cdf[:, -1:], right=True)
            token = token.clamp_(max=self.tokenizer.vocab_size - 1)
            out.append(token)
            seq = torch.cat([seq, token], dim=1)
        return torch.cat(out, dim=1)

    @torch.no_grad()
    def sample(
        self, n: int, generator: torch.Generator | None = None, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``n`` images in ``spec.value_range``, sampled at ``config.temperature``."""
        labels = self.sample_labels(n, labels) if self.conditional else None
        return self.tokenizer.decode(self.sample_tokens(n, generator, labels=labels))
