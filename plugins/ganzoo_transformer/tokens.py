"""Images <-> token sequences: patches of pixels quantized to a few levels, one id per patch.

A p x p patch of C channels holds C*p*p values, each quantized to ``levels``
evenly spaced grey levels (nearest level, so black stays black and white
stays white); the patch's id is those digits read in base ``levels``.  The
sequence runs over patches in raster order.  Sides that are not a multiple of
p are padded with the darkest level and cropped again on the way back.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


class PatchTokenizer:
    """Fixed (not learned) tokenisation; its inverse is exact on quantized images."""

    def __init__(
        self,
        channels: int,
        height: int,
        width: int,
        patch: int,
        levels: int,
        value_range: tuple[float, float] = (-1.0, 1.0),
    ) -> None:
        self.channels, self.height, self.width = channels, height, width
        self.patch, self.levels = patch, levels
        self.value_range = value_range
        self.rows = math.ceil(height / patch)
        self.cols = math.ceil(width / patch)
        self.digits = channels * patch * patch
        self.vocab_size = levels**self.digits
        # Most significant digit first: channel, then row and column within the patch.
        self._weights = levels ** torch.arange(self.digits - 1, -1, -1, dtype=torch.long)

    @property
    def num_tokens(self) -> int:
        return self.rows * self.cols

    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        """Float images in ``value_range`` -> integer levels ``N x C x H x W``."""
        low, high = self.value_range
        byte = ((x.float() - low) * (255.0 / (high - low))).round().clamp(0, 255)
        return torch.round(byte * ((self.levels - 1) / 255.0)).long()

    def dequantize(self, q: torch.Tensor) -> torch.Tensor:
        """Integer levels -> float images in ``value_range`` (levels evenly spaced, ends included)."""
        low, high = self.value_range
        return q.float() * ((high - low) / (self.levels - 1)) + low

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Float images -> token ids ``N x T``."""
        return self.levels_to_tokens(self.quantize(x))

    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token ids ``N x T`` -> float images ``N x C x H x W`` in ``value_range``."""
        return self.dequantize(self.tokens_to_levels(tokens))

    def levels_to_tokens(self, q: torch.Tensor) -> torch.Tensor:
        p = self.patch
        pad_h, pad_w = self.rows * p - self.height, self.cols * p - self.width
        if pad_h or pad_w:
            q = F.pad(q, (0, pad_w, 0, pad_h), value=0)
        n = q.shape[0]
        # N, C, rows, p, cols, p -> N, rows, cols, C, p, p
        patches = q.view(n, self.channels, self.rows, p, self.cols, p).permute(0, 2, 4, 1, 3, 5)
        digits = patches.reshape(n, self.num_tokens, self.digits)
        return (digits * self._weights.to(q.device)).sum(-1)

    def tokens_to_levels(self, tokens: torch.Tensor) -> torch.Tensor:
        p, n = self.patch, tokens.shape[0]
        weights = self._weights.to(tokens.device)
        digits = torch.div(tokens.unsqueeze(-1), weights, rounding_mode="floor") % self.levels
        patches = digits.view(n, self.rows, self.cols, self.channels, p, p)
        q = patches.permute(0, 3, 1, 4, 2, 5).reshape(
            n, self.channels, self.rows * p, self.cols * p
        )
        return q[:, :, : self.height, : self.width]


def auto_tokenisation(channels: int, max_vocab: int) -> tuple[int, int]:
    """(patch, levels) when the user leaves them at 0.

    Grey images use 2x2 patches (a quarter as many tokens: 196 for 28x28);
    colour images use single pixels, since a 2x2 colour patch needs 12 digits
    and would leave only 2 levels per channel.  Levels are then as many as fit
    in ``max_vocab`` ids (512: 4 grey levels per 2x2 patch, 8 per RGB channel).
    """
    patch = 2 if channels == 1 else 1
    return patch, max_levels(channels * patch * patch, max_vocab)


def max_levels(digits: int, max_vocab: int) -> int:
    levels = 1
    while levels < 256 and vocab_within(levels + 1, digits, max_vocab):
        levels += 1
    return levels


def vocab_within(levels: int, digits: int, limit: int) -> bool:
    """Whether ``levels ** digits <= limit``, compared in logarithms first.

    A model folder's config may claim a million channels or a patch a million
    pixels wide; the power itself would then have billions of digits.
    """
    if levels <= 1:
        return True
    if digits * math.log2(levels) > math.log2(max(limit, 1)) + 1:
        return False
    return levels**digits <= limit
