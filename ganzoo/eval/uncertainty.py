"""How much a number would move with other images: bootstrap intervals and FID∞.

Both reuse the features an evaluation already has.  A bootstrap replicate
resamples the generated and the real features with replacement (a fixed
number of replicates from a fixed seed, both in the protocol) and recomputes
the metric; the 2.5th and 97.5th percentiles are the 95% interval.  One
replicate is computed here (``_Replicates``); ``replicates`` draws them, keeps
them, and draws the real side alike for every model so that two models' pair up.  FID∞
(Chong & Forsyth 2020) fits FID at several subset sizes linearly in 1/N and
reports the intercept: FID's bias at finite N removed.

The Fréchet step is repeated hundreds of times here, so it uses an exact
symmetric form instead of torch-fidelity's non-symmetric eigenvalue routine
(``frechet``; at 500 images of 2048-d features it is ~40x faster) and is
tested against torch-fidelity's function to 1e-6.  Up to ``resample.MAX_ROWS``
images per side the replicates are computed from Gram matrices formed once
(``resample``), which removes the 2048-d products from every replicate.  The headline FID stays
torch-fidelity's own.  Precision/recall replicates count a resampled point's
multiplicity instead of letting duplicates shrink k-NN radii to zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..device import cpu_threads
from .replicates import (
    BOUNDS,
    RESAMPLES,
    SEED,
    Bootstrap,
    fingerprint,
    fingerprint_layer,
    interval,
    streams,
)
from .resample import MAX_ROWS, MIN_DIMS, Gram, unique, weighted_precision_recall

#: FID∞: subset sizes as fractions of the generated set, and random subsets per size.
FID_INF_FRACTIONS = (0.2, 0.4, 0.6, 0.8, 1.0)
FID_INF_DRAWS = 3


def frechet(gen: torch.Tensor, real: torch.Tensor) -> float:
    """FID between two feature sets, exactly, from symmetric decompositions (float64).

    tr sqrt(S1 S2) is the nuclear norm of A1 A2^T when S_i = A_i^T A_i (fewer
    images than dimensions), else ``trace_sqrt_product`` of the covariances.
    """
    a, b = (x.double() - x.double().mean(0) for x in (gen, real))
    a, b = a / (len(a) - 1) ** 0.5, b / (len(b) - 1) ** 0.5
    diff = gen.double().mean(0) - real.double().mean(0)
    if min(len(a), len(b)) < a.shape[1]:
        cross = torch.linalg.svdvals(a @ b.T).sum()
    else:
        cross = trace_sqrt_product(a.T @ a, b.T @ b)
    return float(diff @ diff + (a * a).sum() + (b * b).sum() - 2 * cross)


def trace_sqrt_product(s1: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
    """tr sqrt(S1 S2) of two covariance matrices, from one symmetric eigenvalue problem.

    S1 S2 has the eigenvalues of L^T S2 L when S1 = L L^T (Cholesky), a symmetric
    matrix whose eigenvalues alone (no vectors) are cheap; a singular S1 (a
    feature that never varies) falls back to S1^1/2 S2 S1^1/2 by eigendecomposition.
    """
    factor, info = torch.linalg.cholesky_ex(s1)
    if int(info) == 0:
        middle = factor.T @ s2 @ factor
    else:
        values, vectors = torch.linalg.eigh(s1)
        root = (vectors * values.clamp(min=0).sqrt()) @ vectors.T
        middle = root @ s2 @ root
    return torch.linalg.eigvalsh(middle).clamp(min=0).sqrt().sum()


def precision_recall(
    gen: torch.Tensor,
    real: torch.Tensor,
    k: int,
    gen_weights: torch.Tensor | None = None,
    real_weights: torch.Tensor | None = None,
) -> tuple[float, float]:
    """Improved precision/recall (Kynkäänniemi et al. 2019) with per-point multiplicities."""
    gen, real = gen.float(), real.float()
    gw = torch.ones(len(gen), dtype=torch.float64) if gen_weights is None else gen_weights.double()
    rw = (
        torch.ones(len(real), dtype=torch.float64)
        if real_weights is None
        else real_weights.double()
    )
    distances = (torch.cdist(a, b) for a, b in ((gen, gen), (real, real), (gen, real), (real, gen)))
    return weighted_precision_recall(*distances, k, gw, rw)


def _kid(gen: torch.Tensor, real: torch.Tensor) -> float:
    """torch-fidelity's unbiased MMD² with its polynomial kernel (degree 3, gamma 1/d, coef0 1)."""
    from torch_fidelity.metric_kid import mmd2

    def kernel(x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
        return ((x @ y.T) / x.shape[1] + 1).pow(3).double().numpy()

    return float(mmd2(kernel(gen, gen), kernel(gen, real), kernel(real, real)))


def heavy(dims: int, rows: int) -> bool:
    """Fréchet steps that form d x d covariances of high-dimensional features from at least d
    rows: products of gigaflops, where every thread (or a GPU) pays; for 128-d features or
    the Gram path's gathers, threads only fight (badly, on shared cores)."""
    return dims >= MIN_DIMS and rows >= dims


@dataclass
class _Replicates:
    """What every bootstrap replicate needs, and the Gram matrices where they fit (``resample``)."""

    metrics: tuple[str, ...]
    layers: dict[str, str]
    gen: dict[str, torch.Tensor]
    real: dict[str, torch.Tensor]
    kid_subset: int | None
    k: int
    grams: dict[str, Gram] = field(default_factory=dict)
    #: The evaluation's device: on a GPU, FID's covariance replicates run there (``heavy``).
    device: torch.device | None = None
    moved: dict[str, torch.Tensor] = field(default_factory=dict)
    #: k of density/coverage, and their distance matrices once formed (``density.Distances``).
    dc_k: int = 0
    distances: Any = None
    #: CMMD's kernel matrices once formed (``cmmd.Kernels``).
    kernels: Any = None

    def heavy(self) -> bool:
        """Whether FID's replicates are ``heavy`` (the Gram path's gathers are not)."""
        layer = self.layers.get("fid")
        if "fid" not in self.metrics or layer is None:
            return False
        return heavy(self.gen[layer].shape[1], min(len(self.gen[layer]), len(self.real[layer])))

    def frechet(self, layer: str, ig: np.ndarray, ir: np.ndarray) -> float:
        gen, real = self.gen[layer], self.real[layer]
        if self.device is not None and self.device.type == "cuda" and self.heavy():
            if not self.moved:  # once: 50,000 x 2048 floats are 400 MB per side
                self.moved.update(gen=gen.to(self.device), real=real.to(self.device))
            gen, real = self.moved["gen"], self.moved["real"]
            ig, ir = (torch.from_numpy(i).to(self.device) for i in (ig, ir))
        return frechet(gen[ig], real[ir])

    def gram(self, metric: str) -> Gram | None:
        layer = self.layers[metric]
        gen, real = self.gen[layer], self.real[layer]
        if layer not in self.grams and Gram.fits(gen, real):
            self.grams[layer] = Gram(gen, real)
        return self.grams.get(layer)

    def draw(self, gen_rng: np.random.Generator, real_rng: np.random.Generator) -> dict[str, float]:
        """One replicate: generated rows from ``gen_rng``, real rows from ``real_rng`` (each
        stream draws its indices first, then KID's subset), the same on either path."""
        n, m = (len(next(iter(side.values()))) for side in (self.gen, self.real))
        ig, ir = gen_rng.integers(0, n, n), real_rng.integers(0, m, m)
        out: dict[str, float] = {}
        if "fid" in self.metrics:
            layer = self.layers["fid"]
            # With more images than dimensions the d x d covariances are the smaller problem.
            gram = self.gram("fid") if min(n, m) < self.gen[layer].shape[1] else None
            out["frechet_inception_distance"] = (
                gram.frechet(ig, ir) if gram else self.frechet(layer, ig, ir)
            )
        if "kid" in self.metrics:
            gram, layer, size = self.gram("kid"), self.layers["kid"], self.kid_subset or min(n, m)
            gi, ri = gen_rng.choice(ig, size), real_rng.choice(ir, size)
            gen, real = self.gen[layer].float(), self.real[layer].float()
            out["kernel_inception_distance_mean"] = (
                gram.kid(gi, ri) if gram else _kid(gen[gi], real[ri])
            )
        if "prc" in self.metrics:
            gram, layer = self.gram("prc"), self.layers["prc"]
            if gram:
                p, r = gram.precision_recall(ig, ir, self.k)
            else:
                (ug, wg), (ur, wr) = unique(ig), unique(ir)
                p, r = precision_recall(self.gen[layer][ug], self.real[layer][ur], self.k, wg, wr)
            out["precision"], out["recall"] = p, r
        if "dc" in self.metrics:
            out.update(self.density_coverage(ig, ir))
        if "cmmd" in self.metrics:
            if self.kernels is None:
                from .cmmd import Kernels

                layer = self.layers["cmmd"]
                self.kernels = Kernels(self.real[layer], self.gen[layer])
            out["cmmd"] = self.kernels.replicate(ir, ig)
        return out

    def density_coverage(self, ig: np.ndarray, ir: np.ndarray) -> dict[str, float]:
        """Density/coverage of one replicate: from distances formed once where they fit,
        else from the distinct drawn rows' distances (``density.weighted_density_coverage``)."""
        from .density import Distances, weighted_density_coverage

        layer, k = self.layers["dc"], self.dc_k
        gen, real = self.gen[layer], self.real[layer]
        if max(len(gen), len(real)) <= MAX_ROWS:
            if self.distances is None:
                self.distances = Distances(real, gen, k)
            return self.distances.replicate(ir, ig)
        (ur, wr), (ug, wg) = unique(ir), unique(ig)
        real, gen = real[ur].double(), gen[ug].double()
        return weighted_density_coverage(torch.cdist(real, real), torch.cdist(real, gen), k, wr, wg)


def bootstrap(
    metrics: tuple[str, ...],
    layers: dict[str, str],
    gen: dict[str, torch.Tensor],
    real: dict[str, torch.Tensor],
    kid_subset: int | None,
    k: int,
    estimates: dict[str, float],
    resamples: int = RESAMPLES,
    seed: int = SEED,
    device: torch.device | None = None,
    dc_k: int = 0,
) -> Bootstrap:
    """Replicates and 95% intervals of FID, KID, precision/recall, density/coverage, CMMD.

    ``k`` is precision/recall's neighbourhood, ``dc_k`` density/coverage's.  On
    a CUDA ``device`` the replicates that form large covariances run there; the
    draws are the same.  Intervals are clipped to what a metric can take.
    """
    task = _Replicates(metrics, layers, gen, real, kid_subset, k, device=device, dc_k=dc_k)
    for metric in set(metrics) & {"kid", "prc"}:
        task.gram(metric)  # the big products, with every thread, before the small ones
    mark = fingerprint(gen[fingerprint_layer(metrics, layers)])
    num_real = len(next(iter(real.values())))
    replicates: dict[str, list[float]] = {}
    with cpu_threads(None if task.heavy() else 1):
        for i in range(resamples):
            for key, value in task.draw(*streams(seed, mark, num_real, i)).items():
                replicates.setdefault(key, []).append(value)
    intervals = {
        key: interval(values, estimates[key], BOUNDS.get(key, (-np.inf, np.inf)))
        for key, values in replicates.items()
    }
    return Bootstrap(replicates, intervals)


def fid_infinity(
    gen: torch.Tensor,
    real: torch.Tensor,
    fractions: tuple[float, ...] = FID_INF_FRACTIONS,
    draws: int = FID_INF_DRAWS,
    seed: int = SEED,
) -> dict[str, Any]:
    """FID∞: FID of random generated subsets of several sizes, extrapolated linearly in 1/N to 0."""
    rng = np.random.default_rng(seed)
    n = len(gen)
    sizes = sorted({max(3, round(f * n)) for f in fractions})
    points = []
    with cpu_threads(None if heavy(gen.shape[1], min(sizes[0], len(real))) else 1):
        for size in sizes:
            fids = [frechet(gen[rng.choice(n, size, replace=False)], real) for _ in range(draws)]
            points.append((size, float(np.mean(fids))))
    slope, intercept = np.polyfit([1 / s for s, _ in points], [f for _, f in points], 1)
    return {"value": float(intercept), "sizes": sizes, "points": points, "slope": float(slope)}
