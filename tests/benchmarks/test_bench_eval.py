"""Evaluator benchmarks (pytest tests/benchmarks --benchmark-only); numbers go to docs/performance.md."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

import ganzoo


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")


@pytest.fixture(scope="module")
def samples() -> torch.Tensor:
    data = ganzoo.load_dataset("mnist5k", "train")
    return data.images[torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:500]]


def _clear_reference_cache() -> None:
    shutil.rmtree(ganzoo.cache_dir("fidelity"), ignore_errors=True)


@pytest.mark.slow  # over 5 s even under --benchmark-disable
def test_eval_cold_reference(benchmark, samples):
    """FID+KID+PR with lenet-mnist, the reference (mnist5k test, 500 images) encoded from scratch."""
    benchmark.pedantic(
        lambda: ganzoo.evaluate(samples, metrics="fid,kid,pr"),
        setup=_clear_reference_cache,
        rounds=3,
    )


@pytest.mark.slow  # over 5 s even under --benchmark-disable
def test_eval_cached_reference(benchmark, samples):
    """The same evaluation with the reference's features read from the verified cache."""
    ganzoo.evaluate(samples, metrics="fid,kid,pr")
    benchmark.pedantic(lambda: ganzoo.evaluate(samples, metrics="fid,kid,pr"), rounds=3)


def _features(n: int, dims: int = 2048, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two correlated, non-negative feature sets shaped like Inception's pool3."""
    g = torch.Generator().manual_seed(seed)
    mix = torch.eye(dims) + 0.01 * torch.randn(dims, dims, generator=g)
    a, b = (torch.relu(torch.randn(n, dims, generator=g) @ mix * 0.3 + 0.2) for _ in range(2))
    return a, b


def _stats(a: torch.Tensor, b: torch.Tensor) -> tuple[np.ndarray, ...]:
    a, b = a.double().numpy(), b.double().numpy()
    return a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)


@pytest.fixture(scope="module")
def measured(request) -> bool:
    return not request.config.getoption("benchmark_disable")


FRECHET_SIZES = [3000, 1000]


@pytest.mark.slow  # over 5 s even under --benchmark-disable
@pytest.mark.benchmark(group="frechet-2048")
@pytest.mark.parametrize("n", FRECHET_SIZES)
def test_frechet_2048_torch_fidelity(benchmark, n):
    from torch_fidelity.metric_fid import fid_statistics_to_metric

    mu1, s1, mu2, s2 = _stats(*_features(n))
    benchmark.pedantic(
        lambda: fid_statistics_to_metric({"mu": mu1, "sigma": s1}, {"mu": mu2, "sigma": s2}, False),
        rounds=1,
    )


@pytest.mark.slow  # over 5 s even under --benchmark-disable
@pytest.mark.benchmark(group="frechet-2048")
@pytest.mark.parametrize("n", FRECHET_SIZES)
def test_frechet_2048_scipy_sqrtm(benchmark, n):
    from scipy import linalg

    mu1, s1, mu2, s2 = _stats(*_features(n))

    def fid() -> float:
        covmean = linalg.sqrtm(s1 @ s2).real
        return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))

    benchmark.pedantic(fid, rounds=1)


@pytest.mark.benchmark(group="frechet-2048")
@pytest.mark.parametrize("n", [pytest.param(3000, marks=pytest.mark.slow), 1000])
def test_frechet_2048_ganzoo_symmetric(benchmark, n):
    """ganzoo's exact symmetric forms: with fewer images than dimensions the nuclear norm of the
    cross-Gram matrix (from the features, centring included in the time), else from the same
    statistics the other two get (one Cholesky factor and one symmetric eigenvalue problem)."""
    from ganzoo.eval.uncertainty import frechet, trace_sqrt_product

    a, b = _features(n)
    if n < a.shape[1]:
        benchmark.pedantic(frechet, args=(a, b), rounds=1)
        return
    mu1, s1, mu2, s2 = (torch.from_numpy(x) for x in _stats(a, b))

    def fid() -> float:
        cross = trace_sqrt_product(s1, s2)
        return float((mu1 - mu2).square().sum() + s1.trace() + s2.trace() - 2 * cross)

    benchmark.pedantic(fid, rounds=1)


@pytest.mark.slow  # over 5 s even under --benchmark-disable
@pytest.mark.benchmark(group="kid-2048")
def test_kid_torch_fidelity_100_subsets(benchmark, measured):
    """KID as every evaluation computes it (torch-fidelity: 100 subsets of 1,000), N = 10,000."""
    from torch_fidelity.metric_kid import kid_features_to_metric

    a, b = _features(10_000 if measured else 1200)
    options = dict(kid_subsets=100, kid_subset_size=1000, rng_seed=2020, verbose=False)
    benchmark.pedantic(kid_features_to_metric, args=(a, b), kwargs=options, rounds=1)
    # three 1000 x 2048 x 1000 products per subset: the floating-point work KID cannot avoid
    benchmark.extra_info["gflop"] = 100 * 3 * 2 * 1000 * 1000 * 2048 / 1e9


@pytest.mark.benchmark(group="bootstrap-2048")
@pytest.mark.parametrize("path", ["gram", pytest.param("features", marks=pytest.mark.slow)])
def test_bootstrap_replicates(benchmark, monkeypatch, path):
    """20 bootstrap replicates of FID, KID and precision/recall, 1,000 vs 1,000 2048-d features."""
    from ganzoo.eval import uncertainty

    if path == "features":
        monkeypatch.setattr(uncertainty.Gram, "fits", staticmethod(lambda gen, real: False))
    a, b = _features(1000)
    layers = dict.fromkeys(("fid", "kid", "prc"), "2048")
    estimates = {
        "frechet_inception_distance": 0.0,
        "kernel_inception_distance_mean": 0.0,
        "precision": 0.5,
        "recall": 0.5,
    }
    args = (("fid", "kid", "prc"), layers, {"2048": a}, {"2048": b}, None, 3, estimates, 20)
    benchmark.pedantic(uncertainty.bootstrap, args=args, rounds=1)


def _lenet():
    from ganzoo_extractors.lenet import LeNetMnistExtractor

    return LeNetMnistExtractor("lenet-mnist", ["features"])


def test_lenet_throughput_pipeline(benchmark, samples):
    """Features of 500 images through ganzoo + torch-fidelity (IS only: no reference involved)."""
    benchmark.pedantic(lambda: ganzoo.evaluate(samples, metrics="is"), rounds=3)


def test_lenet_throughput_bare_forward(benchmark, samples):
    net = _lenet()
    batches = [b.expand(-1, 3, -1, -1).contiguous() for b in samples.split(64)]

    def run() -> None:
        with torch.no_grad():
            for batch in batches:
                net(batch)

    benchmark.pedantic(run, rounds=3)
