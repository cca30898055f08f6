"""Discretized logistic likelihood of 8-bit images.

Pixels are integers 0..255 mapped to bin centres in [-1, 1].  The probability
of a pixel is the logistic mass of its bin (width 2/255); the two end bins
take the whole tail, so the 256 probabilities sum to exactly one and the NLL
is a true discrete code length: nats/(D ln 2) is bits/dim of the 8-bit image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: Half the width of one 8-bit bin on the [-1, 1] scale.
HALF_BIN = 1.0 / 255.0
#: Smallest log-scale the decoder may predict; below this, one bin holds ~all the mass anyway.
MIN_LOG_SCALE = -7.0


def to_unit_range(x: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    """Images in ``value_range`` to [-1, 1], where the bin arithmetic is written."""
    low, high = value_range
    return (x - low) * (2.0 / (high - low)) - 1.0


def discretized_logistic_log_prob(
    x: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor
) -> torch.Tensor:
    """Elementwise log-probability of 8-bit pixels ``x`` (bin centres in [-1, 1]).

    Computed in float32 and always on the side of the distribution where the
    logistic CDF is small, so neither tail loses the mass to rounding.
    """
    x, mean, log_scale = x.float(), mean.float(), log_scale.float()
    log_scale = log_scale.clamp(min=MIN_LOG_SCALE)
    inv_scale = torch.exp(-log_scale)
    centred = x - mean
    upper = inv_scale * (centred + HALF_BIN)
    lower = inv_scale * (centred - HALF_BIN)
    # log(sigmoid(upper) - sigmoid(lower)), mirrored when the bin lies right of the mean:
    # sigmoid(u) - sigmoid(l) == sigmoid(-l) - sigmoid(-u).
    right = centred > 0
    a = torch.where(right, -lower, upper)
    b = torch.where(right, -upper, lower)
    log_a = F.logsigmoid(a)
    log_b = F.logsigmoid(b)
    log_mass = log_a + torch.log((-torch.expm1(log_b - log_a)).clamp(min=1e-30))
    log_first = F.logsigmoid(upper)  # everything below the first bin's upper edge
    log_last = F.logsigmoid(-lower)  # everything above the last bin's lower edge
    first = x < -1.0 + HALF_BIN
    last = x > 1.0 - HALF_BIN
    return torch.where(first, log_first, torch.where(last, log_last, log_mass))
