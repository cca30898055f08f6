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


def test_eval_cold_reference(benchmark, samples):
    """FID+KID+PR with lenet-mnist, the reference (mnist5k test, 500 images) encoded from scratch."""
    benchmark.pedantic(
        lambda: ganzoo.evaluate(samples, metrics="fid,kid,pr"),
        setup=_clear_reference_cache,
        rounds=3,
    )


def test_eval_cached_reference(benchmark, samples):
    """The same evaluation with the reference's features read from the verified cache."""
    ganzoo.evaluate(samples, metrics="fid,kid,pr")
    benchmark.pedantic(lambda: ganzoo.evaluate(samples, metrics="fid,kid,pr"), rounds=3)


def _stats(dims: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3000, dims)) @ (
        np.eye(dims) + 0.01 * rng.standard_normal((dims, dims))
    )
    return a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)


def test_frechet_2048_torch_fidelity(benchmark):
    from torch_fidelity.metric_fid import fid_statistics_to_metric

    mu1, s1, mu2, s2 = _stats(2048)
    benchmark.pedantic(
        lambda: fid_statistics_to_metric({"mu": mu1, "sigma": s1}, {"mu": mu2, "sigma": s2}, False),
        rounds=1,
    )


def test_frechet_2048_scipy_sqrtm(benchmark):
    from scipy import linalg

    mu1, s1, mu2, s2 = _stats(2048)

    def fid() -> float:
        covmean = linalg.sqrtm(s1 @ s2).real
        return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))

    benchmark.pedantic(fid, rounds=1)


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


@pytest.mark.slow
def test_inception_throughput_pipeline(benchmark, samples):
    """20 images through ganzoo + torch-fidelity with the offline-fallback Inception (reference cached)."""
    options = dict(extractor="inception-v3-compat", metrics="fid,pr", num_real=20)
    ganzoo.evaluate(samples[:20], **options)  # fills the reference cache
    benchmark.pedantic(lambda: ganzoo.evaluate(samples[:20], **options), rounds=1)


@pytest.mark.slow
def test_inception_throughput_bare_forward(benchmark, samples):
    from ganzoo_extractors.inception import resolve_weights
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    net = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=resolve_weights().path
    )
    batch = samples[:20].expand(-1, 3, -1, -1).contiguous()

    def run() -> None:
        with torch.no_grad():
            net(batch)

    benchmark.pedantic(run, rounds=1)
