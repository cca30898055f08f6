"""CMMD (Jayasumana et al. 2024): the kernel MMD between two sets of L2-normalised embeddings.

FID fits one Gaussian to each set; CLIP embeddings are far from Gaussian, and
FID's estimate is biased by the sample size.  CMMD makes no distributional
assumption: it is the squared maximum mean discrepancy with a Gaussian RBF
kernel ``k(x, y) = exp(-||x - y||^2 / (2 sigma^2))``, sigma = 10, on
L2-normalised embeddings, multiplied by 1000 so the numbers read like FID's.

The estimator is google-research/cmmd's (``distance.py``): the minimum-variance
*biased* estimate of Gretton et al. 2012, Eq. (5), means of the kernel over all
pairs, the diagonal (each point with itself) included::

    CMMD = 1000 * (mean K(x, x') + mean K(y, y') - 2 mean K(x, y))

It is never negative, 0 when both sets are the same, and a bootstrap replicate
(a resampled set) is the same formula with each point's multiplicity as its
weight (``weighted_cmmd``).  The normalisation is done here, not by the
extractor, so CMMD on any extractor's features is this one formula.  Kernels
are float64 and formed ``CHUNK`` rows at a time.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import GanzooError
from .resample import MAX_ROWS

#: The reference's bandwidth and scale (google-research/cmmd, ``_SIGMA``/``_SCALE``).
SIGMA = 10.0
SCALE = 1000.0
#: Rows per kernel chunk: 1024 x 10,000 float64 values are 80 MB.
CHUNK = 1024
#: What the protocol records (``settings.cmmd``), only when CMMD is measured.
ESTIMATOR = "biased (V-statistic, diagonal included; google-research/cmmd)"


def settings() -> dict[str, object]:
    """CMMD's fixed settings as the protocol records them."""
    return {"sigma": SIGMA, "scale": SCALE, "normalise": "l2", "estimator": ESTIMATOR}


def normalise(x: torch.Tensor, side: str = "features") -> torch.Tensor:
    """Rows scaled to unit L2 norm in float64 (the reference normalises each embedding)."""
    if x.dim() != 2:
        raise GanzooError(
            f"CMMD needs {side} as a 2-D (images x features) array, got shape {tuple(x.shape)}"
        )
    x = x.double()
    if not torch.isfinite(x).all():
        raise GanzooError(f"CMMD: the {side} hold NaN or infinite values")
    norms = torch.linalg.vector_norm(x, dim=1, keepdim=True)
    if len(x) == 0 or bool((norms == 0).any()):
        raise GanzooError(
            f"CMMD needs at least one row of {side}, none of them all zeros (a zero embedding "
            "has no direction to normalise)"
        )
    return x / norms


def _checked(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both sets normalised, float64, on the real set's device, or a one-line GanzooError."""
    real, fake = normalise(real, "real features"), normalise(fake, "fake features")
    if real.shape[1] != fake.shape[1]:
        raise GanzooError(
            f"CMMD: real and fake features differ in width ({real.shape[1]} vs {fake.shape[1]}); "
            "extract both with the same network and layer"
        )
    return real, fake.to(real.device)


def kernel(a: torch.Tensor, b: torch.Tensor, sigma: float = SIGMA) -> torch.Tensor:
    """The RBF kernel matrix, ``exp(-gamma ||a_i - b_j||^2)`` with gamma = 1 / (2 sigma^2);
    squared distances as the reference forms them (norms minus twice the inner products),
    clipped at 0 against rounding."""
    gamma = 1.0 / (2.0 * sigma**2)
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return torch.exp(-gamma * d2.clamp_min(0.0))


def _kernel_sum(
    a: torch.Tensor, b: torch.Tensor, wa: torch.Tensor, wb: torch.Tensor, sigma: float, chunk: int
) -> float:
    """``wa^T K(a, b) wb``, ``chunk`` rows of ``a`` at a time (never the whole matrix)."""
    total = 0.0
    for start in range(0, len(a), chunk):
        block = kernel(a[start : start + chunk], b, sigma)
        total += float(wa[start : start + chunk] @ block @ wb)
    return total


def weighted_cmmd(
    real: torch.Tensor,
    fake: torch.Tensor,
    real_weights: torch.Tensor,
    fake_weights: torch.Tensor,
    sigma: float = SIGMA,
    scale: float = SCALE,
    chunk: int = CHUNK,
) -> float:
    """CMMD of already normalised float64 rows, each counted as often as its weight says:
    the estimator on the set with row i repeated ``weights[i]`` times (a bootstrap replicate
    on its distinct rows).  All weights 1 is the plain estimate."""
    wr, wf = real_weights.double().to(real.device), fake_weights.double().to(real.device)
    n, m = float(wr.sum()), float(wf.sum())
    xx = _kernel_sum(real, real, wr, wr, sigma, chunk) / (n * n)
    yy = _kernel_sum(fake, fake, wf, wf, sigma, chunk) / (m * m)
    xy = _kernel_sum(real, fake, wr, wf, sigma, chunk) / (n * m)
    return scale * (xx + yy - 2.0 * xy)


def cmmd(
    real: torch.Tensor,
    fake: torch.Tensor,
    sigma: float = SIGMA,
    scale: float = SCALE,
    chunk: int = CHUNK,
) -> float:
    """CMMD of ``fake`` embeddings against ``real`` ones (rows are images; any scale: each row
    is L2-normalised first).  Lower is better; 0 for identical sets."""
    real, fake = _checked(torch.as_tensor(real), torch.as_tensor(fake))
    ones_r = torch.ones(len(real), dtype=torch.float64, device=real.device)
    ones_f = torch.ones(len(fake), dtype=torch.float64, device=real.device)
    return weighted_cmmd(real, fake, ones_r, ones_f, sigma, scale, chunk)


class Kernels:
    """The three kernel matrices formed once (up to ``resample.MAX_ROWS`` rows per set), so
    that each bootstrap replicate is three weighted sums; larger sets recompute the kernels
    of each replicate's distinct rows chunk by chunk (``weighted_cmmd``)."""

    def __init__(self, real: torch.Tensor, fake: torch.Tensor, sigma: float = SIGMA):
        self.real, self.fake = _checked(real, fake)
        self.sigma = sigma
        self.matrices: tuple[torch.Tensor, ...] | None = None
        if max(len(self.real), len(self.fake)) <= MAX_ROWS:
            pairs = ((self.real, self.real), (self.fake, self.fake), (self.real, self.fake))
            self.matrices = tuple(kernel(a, b, sigma) for a, b in pairs)

    def replicate(self, real_idx: np.ndarray, fake_idx: np.ndarray, scale: float = SCALE) -> float:
        """CMMD of ``fake[fake_idx]`` against ``real[real_idx]`` (indices with repeats)."""
        device = self.real.device
        wr = torch.bincount(torch.from_numpy(real_idx), minlength=len(self.real)).double()
        wf = torch.bincount(torch.from_numpy(fake_idx), minlength=len(self.fake)).double()
        wr, wf = wr.to(device), wf.to(device)
        if self.matrices is None:
            keep_r, keep_f = wr > 0, wf > 0
            return weighted_cmmd(
                self.real[keep_r], self.fake[keep_f], wr[keep_r], wf[keep_f], self.sigma, scale
            )
        kxx, kyy, kxy = self.matrices
        n, m = float(wr.sum()), float(wf.sum())
        xx, yy, xy = float(wr @ kxx @ wr), float(wf @ kyy @ wf), float(wr @ kxy @ wf)
        return scale * (xx / (n * n) + yy / (m * m) - 2.0 * xy / (n * m))
