"""Bootstrap replicates from inner products computed once.

A replicate draws rows of the generated and the real features with
replacement.  Its FID, KID and precision/recall depend on the features only
through inner products of the drawn rows, so the three Gram matrices
(generated x generated, real x real, generated x real) are computed once in
float64 and each replicate becomes gathers plus one SVD over the *distinct*
drawn rows (about 63% of them), with the duplicates' multiplicities carried as
weights.  At 1,000 against 1,000 Inception features this takes the 100
replicates from 41 s to a few seconds (docs/performance.md).

The Gram matrices grow with the square of the number of images, so above
``MAX_ROWS`` images per side, and for features of fewer than ``MIN_DIMS``
dimensions (where products are as cheap as gathers), ``uncertainty`` recomputes
each replicate from the features instead.  The identities used (all exact):

* ``|mu_g - mu_r|^2 = w_g' K_gg w_g / n^2 + w_r' K_rr w_r / m^2 - 2 w_g' K_gr w_r / (n m)``
* ``tr S = (sum_i w_i K_ii - n |mu|^2) / (n - 1)``
* ``tr sqrt(S_g S_r)`` is the sum of the singular values of ``A_g A_r'`` (the
  centred, scaled rows), and a row drawn ``w`` times scales its singular-value
  contribution exactly as ``sqrt(w)`` times the row does.
"""

from __future__ import annotations

import math

import numpy as np
import torch

#: Largest set (images per side) whose Gram matrices are kept: 3 x 4096^2 float64 = 400 MB.
MAX_ROWS = 4096
#: Below this many dimensions a replicate's products cost no more than its gathers from the
#: Gram matrices (measured: lenet-mnist's 128-d features were 5x slower through them).
MIN_DIMS = 512


def unique(idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct drawn rows and how often each was drawn."""
    values, counts = np.unique(idx, return_counts=True)
    return torch.from_numpy(values), torch.from_numpy(counts).double()


def weighted_precision_recall(
    within_gen: torch.Tensor,
    within_real: torch.Tensor,
    gen_to_real: torch.Tensor,
    real_to_gen: torch.Tensor,
    k: int,
    gen_weights: torch.Tensor,
    real_weights: torch.Tensor,
) -> tuple[float, float]:
    """Improved precision/recall (Kynkäänniemi et al. 2019) from pairwise distances, each point
    counted as often as it was drawn (duplicates would otherwise shrink k-NN radii to zero)."""
    radius_gen = within_gen.kthvalue(k + 1, dim=1).values  # the point itself is the first
    radius_real = within_real.kthvalue(k + 1, dim=1).values
    covered_gen = (gen_to_real <= radius_real[None, :]).any(dim=1).double()
    covered_real = (real_to_gen <= radius_gen[None, :]).any(dim=1).double()
    precision = (covered_gen * gen_weights).sum() / gen_weights.sum()
    return float(precision), float((covered_real * real_weights).sum() / real_weights.sum())


def block(gram: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """``gram[rows][:, cols]`` in one gather."""
    return gram[rows[:, None], cols[None, :]]


class Gram:
    """Inner products of one feature layer's generated and real rows (float64)."""

    def __init__(self, gen: torch.Tensor, real: torch.Tensor) -> None:
        g, r = gen.double(), real.double()
        self.dims = gen.shape[1]
        self.gg, self.rr, self.gr = g @ g.T, r @ r.T, g @ r.T

    @staticmethod
    def fits(gen: torch.Tensor, real: torch.Tensor) -> bool:
        """Worth it: high-dimensional features, and Gram matrices that fit in memory."""
        return gen.shape[1] >= MIN_DIMS and max(len(gen), len(real)) <= MAX_ROWS

    def frechet(self, ig: np.ndarray, ir: np.ndarray) -> float:
        """FID of ``gen[ig]`` against ``real[ir]`` (equal to ``uncertainty.frechet`` of those rows)."""
        (ug, wg), (ur, wr) = unique(ig), unique(ir)
        n, m = len(ig), len(ir)
        kgg, krr, kgr = block(self.gg, ug, ug), block(self.rr, ur, ur), block(self.gr, ug, ur)
        mu_gg, mu_rr, mu_gr = wg @ kgg @ wg / n**2, wr @ krr @ wr / m**2, wg @ kgr @ wr / (n * m)
        trace_g = (wg @ kgg.diagonal() - n * mu_gg) / (n - 1)
        trace_r = (wr @ krr.diagonal() - m * mu_rr) / (m - 1)
        centred = kgr - (kgr @ wr / m)[:, None] - (wg @ kgr / n)[None, :] + mu_gr
        scaled = wg.sqrt()[:, None] * centred * wr.sqrt()[None, :] / math.sqrt((n - 1) * (m - 1))
        cross = torch.linalg.svdvals(scaled).sum()
        return float(mu_gg + mu_rr - 2 * mu_gr + trace_g + trace_r - 2 * cross)

    def kid(self, gi: np.ndarray, ri: np.ndarray) -> float:
        """torch-fidelity's unbiased MMD^2 (cubic kernel, gamma 1/d, coef0 1) of ``gen[gi]``
        against ``real[ri]``, the kernels taken from the Gram matrices."""
        from torch_fidelity.metric_kid import mmd2

        gi_t, ri_t = torch.from_numpy(gi), torch.from_numpy(ri)

        def kernel(gram: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> np.ndarray:
            return (block(gram, rows, cols) / self.dims + 1).pow(3).numpy()

        k_xx, k_xy, k_yy = (
            kernel(self.gg, gi_t, gi_t),
            kernel(self.gr, gi_t, ri_t),
            kernel(self.rr, ri_t, ri_t),
        )
        return float(mmd2(k_xx, k_xy, k_yy))

    def precision_recall(self, ig: np.ndarray, ir: np.ndarray, k: int) -> tuple[float, float]:
        """Improved precision/recall of the drawn rows, each distinct row weighted by its draws."""
        (ug, wg), (ur, wr) = unique(ig), unique(ir)
        dg, dr = self.gg.diagonal()[ug], self.rr.diagonal()[ur]

        def distances(a: torch.Tensor, b: torch.Tensor, inner: torch.Tensor) -> torch.Tensor:
            return (a[:, None] + b[None, :] - 2 * inner).clamp(min=0).sqrt()

        cross = distances(dg, dr, block(self.gr, ug, ur))
        within_gen = distances(dg, dg, block(self.gg, ug, ug))
        within_real = distances(dr, dr, block(self.rr, ur, ur))
        return weighted_precision_recall(within_gen, within_real, cross, cross.T, k, wg, wr)
