"""Density/coverage benchmarks (pytest tests/benchmarks/test_bench_density.py --benchmark-only).

ganzoo's chunked float64 torch pass against the obvious alternative, full
SciPy distance matrices and a partition for the k-th neighbour (what the
reference ``prdc`` package does with scikit-learn), on 2048-d features shaped
like Inception's; and bootstrap replicates from distances formed once against
recomputing each replicate's distances.  Ratios go to docs/performance.md.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganzoo.eval.density import Distances, density_coverage, weighted_density_coverage
from ganzoo.eval.resample import unique

K = 5
REPLICATES = 20


def _features(n: int, dims: int = 2048, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a, b = (torch.relu(torch.randn(n, dims, generator=g) * 0.3 + 0.2) for _ in range(2))
    return a, b


def scipy_density_coverage(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """The textbook computation: both distance matrices whole, the k-th neighbour by partition
    (column 0 after partitioning is the point itself, at distance 0)."""
    from scipy.spatial.distance import cdist

    radii = np.partition(cdist(real, real), k, axis=1)[:, k]
    inside = cdist(real, fake) <= radii[:, None]
    return {"density": inside.sum() / (k * len(fake)), "coverage": inside.any(axis=1).mean()}


SIZES = [1000, pytest.param(5000, marks=pytest.mark.slow)]


@pytest.mark.benchmark(group="density-coverage-2048")
@pytest.mark.parametrize("n", SIZES)
def test_density_coverage_ganzoo(benchmark, n):
    real, fake = _features(n)
    result = benchmark.pedantic(density_coverage, args=(real, fake, K), rounds=3)
    expected = scipy_density_coverage(real.double().numpy(), fake.double().numpy(), K)
    assert result == pytest.approx(expected, abs=1e-12)


@pytest.mark.benchmark(group="density-coverage-2048")
@pytest.mark.parametrize("n", SIZES)
def test_density_coverage_scipy_full_matrices(benchmark, n):
    real, fake = (x.double().numpy() for x in _features(n))
    benchmark.pedantic(scipy_density_coverage, args=(real, fake, K), rounds=3)


@pytest.mark.benchmark(group="density-coverage-bootstrap")
def test_replicates_from_distances_formed_once(benchmark):
    """20 bootstrap replicates, 1,000 vs 1,000: the distances formed once, then gathers."""
    real, fake = _features(1000)
    rng = np.random.default_rng(0)
    draws = [(rng.integers(0, 1000, 1000), rng.integers(0, 1000, 1000)) for _ in range(REPLICATES)]

    def replicates() -> list[dict[str, float]]:
        distances = Distances(real, fake, K)
        return [distances.replicate(ir, ig) for ir, ig in draws]

    benchmark.pedantic(replicates, rounds=1)


@pytest.mark.benchmark(group="density-coverage-bootstrap")
def test_replicates_recomputed_from_features(benchmark):
    """The same 20 replicates, each forming the distances of its distinct drawn rows anew."""
    real, fake = (x.double() for x in _features(1000))
    rng = np.random.default_rng(0)
    draws = [(rng.integers(0, 1000, 1000), rng.integers(0, 1000, 1000)) for _ in range(REPLICATES)]

    def replicates() -> list[dict[str, float]]:
        out = []
        for ir, ig in draws:
            (ur, wr), (ug, wg) = unique(ir), unique(ig)
            r, f = real[ur], fake[ug]
            out.append(weighted_density_coverage(torch.cdist(r, r), torch.cdist(r, f), K, wr, wg))
        return out

    benchmark.pedantic(replicates, rounds=1)
