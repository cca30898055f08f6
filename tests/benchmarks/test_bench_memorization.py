"""Memorization benchmarks (pytest tests/benchmarks/test_bench_memorization.py --benchmark-only).

ganzoo's ``memorization`` (one chunked float64 torch pass per query set gives
both the nearest training row and the nearest one in the row's own cell)
against the obvious SciPy computation in the reference's manner (Meehan et al.'s
data-copying code: whole distance matrices, a nearest-neighbour search per
k-means cell, ``scipy.stats.mannwhitneyu`` per cell), with the same cells, on
features shaped like Inception's at the sizes of a mnist5k evaluation (4,500
training images, 1,000 held-out, 1,000 generated).  Both give the same copy
rate and C_T (asserted).  Ratios go to docs/performance.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganzoo.eval.memorization import CELL_TAU, assign, kmeans, memorization

SIZES = {"train": 4500, "heldout": 1000, "generated": 1000}
CELLS = 16


def _features(dims: int = 2048) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        name: torch.relu(torch.randn(n, dims, generator=g, dtype=torch.float64) * 0.3 + 0.2)
        for name, n in SIZES.items()
    }


def scipy_memorization(train, heldout, generated, centroids, quantile=0.05) -> dict[str, float]:
    """Copy rate and C_T as the reference computes them, with SciPy and NumPy only."""
    from scipy.spatial.distance import cdist
    from scipy.stats import mannwhitneyu

    cells = {name: cdist(x, centroids, "sqeuclidean").argmin(1) for name, x in
             (("train", train), ("heldout", heldout), ("generated", generated))}  # fmt: skip
    nearest = {
        s: cdist(x, train).min(1) for s, x in (("heldout", heldout), ("generated", generated))
    }
    threshold = np.quantile(nearest["heldout"], quantile)
    rate = float((nearest["generated"] < threshold).mean())
    zus, shares = [], []
    for c in range(len(centroids)):
        rows = {s: x[cells[s] == c] for s, x in (("heldout", heldout), ("generated", generated))}
        inside = train[cells["train"] == c]
        if len(rows["generated"]) <= CELL_TAU or not len(rows["heldout"]) or not len(inside):
            continue
        h, g = (cdist(rows[s], inside).min(1) for s in ("heldout", "generated"))
        u = mannwhitneyu(g, h).statistic
        n, m = len(h), len(g)
        zus.append((u - (n * m / 2 - 0.5)) / math.sqrt(n * m * (n + m + 1) / 12))
        shares.append(n / len(heldout))
    return {"copy_rate": rate, "data_copying_ct": float(np.dot(shares, zus) / np.sum(shares))}


@pytest.fixture(scope="module")
def sets():
    x = _features()
    return x, kmeans(x["train"], CELLS)


@pytest.mark.benchmark(group="memorization-2048")
def test_memorization_ganzoo(benchmark, sets):
    x, centroids = sets
    args = (x["train"], x["heldout"], x["generated"])
    report = benchmark.pedantic(
        memorization, args=args, kwargs={"cells": centroids, "resamples": 0}, rounds=3
    )
    numpy = {k: v.numpy() for k, v in x.items()}
    expected = scipy_memorization(*numpy.values(), centroids.numpy())
    assert report.metrics() == pytest.approx(expected, abs=1e-9)
    assert torch.equal(assign(x["train"], centroids).unique(), torch.arange(len(centroids)))


@pytest.mark.benchmark(group="memorization-2048")
def test_memorization_scipy_reference_manner(benchmark, sets):
    x, centroids = sets
    numpy = {k: v.numpy() for k, v in x.items()}
    benchmark.pedantic(scipy_memorization, args=(*numpy.values(), centroids.numpy()), rounds=3)


@pytest.mark.benchmark(group="memorization-2048")
def test_memorization_ganzoo_with_100_bootstrap_replicates(benchmark, sets):
    """What the intervals cost on top: 100 replicates reuse the distances, cells fixed."""
    x, centroids = sets
    args = (x["train"], x["heldout"], x["generated"])
    benchmark.pedantic(memorization, args=args, kwargs={"cells": centroids}, rounds=3)
