"""Density and coverage (Naeem et al. 2020): fidelity and diversity that outliers cannot buy.

Improved precision/recall (``resample``) asks only whether a point lies in *any*
k-NN ball of the other set, so one outlying real image, whose ball is huge,
vouches for every generated image near it, and generated outliers do the same
for recall.  Density counts *how many* real balls hold each generated image
(divided by k: about 1 when the two sets match, above 1 when the generator
crowds the dense part of the data), and coverage asks of each real image
whether any generated one lies in its ball: balls around trusted real images only.

Distances are float64 and formed ``CHUNK`` real rows at a time, so 10,000
against 10,000 images hold one 80 MB chunk, never the 800 MB matrices.  For a
bootstrap, ``Distances`` keeps both matrices (only sensible up to
``resample.MAX_ROWS`` images) and each replicate is gathers over its distinct
drawn rows with their multiplicities as weights (``weighted_density_coverage``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ..errors import GanzooError
from .resample import block, unique

#: Real rows per distance chunk: 1024 x 10,000 float64 distances are 80 MB.
CHUNK = 1024


def _problem(real: torch.Tensor, fake: torch.Tensor, k: int) -> str | None:
    """What is wrong with the input, in one line, or None."""
    if k < 1:
        return f"density/coverage need k >= 1, got k={k}"
    for name, x in (("real", real), ("fake", fake)):
        if x.dim() != 2:
            return (
                f"density/coverage need {name} features as a 2-D (images x features) tensor, "
                f"got shape {tuple(x.shape)}"
            )
        if not torch.isfinite(x).all():
            return f"{name} features contain NaN or infinite values"
    if real.shape[1] != fake.shape[1]:
        return (
            f"real and fake features differ in width ({real.shape[1]} vs {fake.shape[1]}); "
            "extract both with the same feature layer"
        )
    if len(fake) < 1:
        return "density/coverage need at least one fake image, got 0"
    if len(real) < k + 1:
        return (
            f"density/coverage with k={k} need at least {k + 1} real images, got {len(real)}; "
            "use more images or a smaller k"
        )
    return None


def _checked(real: torch.Tensor, fake: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Both sets as float64 on the real set's device, or a one-line GanzooError."""
    if problem := _problem(real, fake, k):
        raise GanzooError(problem)
    return real.double(), fake.to(real.device).double()


def chunks(a: torch.Tensor, b: torch.Tensor, chunk: int) -> Iterator[tuple[int, torch.Tensor]]:
    """(first row, distances from ``chunk`` rows of ``a`` to all of ``b``), chunk by chunk."""
    for start in range(0, len(a), chunk):
        yield start, torch.cdist(a[start : start + chunk], b)


def _tally(inside: torch.Tensor, real_w: torch.Tensor, fake_w: torch.Tensor) -> tuple[float, float]:
    """Weighted (fake, ball) pairs with the fake inside, and weighted balls holding any fake:
    sums of integers in float64, so exactly ``density_coverage``'s integer counts."""
    hits = real_w @ inside.double() @ fake_w
    return float(hits), float(real_w @ inside.any(dim=1).double())


def _result(hits: float, covered: float, k: int, fakes: float, reals: float) -> dict[str, float]:
    return {"density": hits / (k * fakes), "coverage": covered / reals}


def density_coverage(
    real: torch.Tensor, fake: torch.Tensor, k: int = 5, chunk: int = CHUNK
) -> dict[str, float]:
    """Density and coverage of ``fake`` features against ``real`` ones (rows are images).

    A real image's ball reaches its k-th nearest *other* real image; ties count as inside.
    """
    real, fake = _checked(real, fake, k)
    radii = []
    for start, d in chunks(real, real, chunk):
        rows = torch.arange(len(d), device=d.device)
        d[rows, rows + start] = torch.inf  # not its own neighbour
        radii.append(d.kthvalue(k, dim=1).values)
    radius, hits, covered = torch.cat(radii), 0, 0
    for start, d in chunks(real, fake, chunk):
        inside = d <= radius[start : start + len(d), None]
        hits, covered = hits + int(inside.sum()), covered + int(inside.any(dim=1).sum())
    return _result(hits, covered, k, len(fake), len(real))


def weighted_radii(within_real: torch.Tensor, k: int, weights: torch.Tensor) -> torch.Tensor:
    """Each real point's distance to its k-th nearest neighbour among the *other* distinct
    points, a point drawn w times counting as w neighbours; its own copies never count."""
    order = within_real.clone().fill_diagonal_(torch.inf).sort(dim=1)  # not its own neighbour
    reach = weights[order.indices].cumsum(dim=1)
    first = (reach < k).sum(dim=1, keepdim=True)  # where the k-th neighbour is reached
    return order.values.gather(1, first).squeeze(1)


def weighted_density_coverage(
    within_real: torch.Tensor,
    real_to_fake: torch.Tensor,
    k: int,
    real_weights: torch.Tensor,
    fake_weights: torch.Tensor,
    count_copies: bool = True,
) -> dict[str, float]:
    """Density and coverage of a resampled set from the distances between its distinct points.

    ``real_weights``/``fake_weights``: how often each distinct point was drawn.  Density
    counts each fake draw in each real draw's ball; coverage is the fraction of real draws
    whose ball holds a fake draw.  Radii (``weighted_radii``): a point's own copies are no
    neighbours (else one drawn k+1 times has an empty ball); other points count as often as
    drawn, so a ball holds about k of the N real draws, as in the full set, and replicates
    stay near the estimate.  ``count_copies=False`` counts each distinct point once, as
    ``weighted_precision_recall`` does: balls of k of the ~63% distinct points, which
    inflates density by about 1/0.63.  All weights 1 give ``density_coverage`` exactly.
    """
    real_w, fake_w = real_weights.double(), fake_weights.double()
    reach = real_w if count_copies else torch.ones_like(real_w)
    if len(reach) < 2 or float((reach.sum() - reach).min()) < k:
        raise GanzooError(
            f"density/coverage with k={k} need at least {k} real draws besides each point's "
            "own copies; use more images or a smaller k"
        )
    radius = weighted_radii(within_real.double(), k, reach)
    hits, covered = _tally(real_to_fake.double() <= radius[:, None], real_w, fake_w)
    return _result(hits, covered, k, float(fake_w.sum()), float(real_w.sum()))


class Distances:
    """Real-real and real-fake distances formed once (chunk by chunk, as ``density_coverage``
    forms them), so that each bootstrap replicate is gathers and one sort."""

    def __init__(self, real: torch.Tensor, fake: torch.Tensor, k: int = 5, chunk: int = CHUNK):
        real, fake = _checked(real, fake, k)
        self.k = k
        self.within = torch.cat([d for _, d in chunks(real, real, chunk)])
        self.cross = torch.cat([d for _, d in chunks(real, fake, chunk)])

    def replicate(
        self, real_idx: np.ndarray, fake_idx: np.ndarray, count_copies: bool = True
    ) -> dict[str, float]:
        """Density and coverage of ``fake[fake_idx]`` against ``real[real_idx]`` (with repeats)."""
        (ur, wr), (uf, wf) = unique(real_idx), unique(fake_idx)
        ur, uf, wr, wf = (t.to(self.within.device) for t in (ur, uf, wr, wf))
        within, cross = block(self.within, ur, ur), block(self.cross, ur, uf)
        return weighted_density_coverage(within, cross, self.k, wr, wf, count_copies)
