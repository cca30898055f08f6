"""Bootstrap intervals and FID∞: exact where they reuse torch-fidelity's definitions, and telling.

The fast Fréchet step used for resamples is checked against torch-fidelity's
own function; the intervals must overlap for two seeds of the same generator
and separate a collapsed generator from a healthy one; FID∞ must remove FID's
small-sample bias (closer to 0 for two halves of real data, below FID for a
generator).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ganzoo
from ganzoo.eval.uncertainty import _kid, fid_infinity, frechet, precision_recall

FID = "frechet_inception_distance"


def torch_fidelity_fid(a: torch.Tensor, b: torch.Tensor) -> float:
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

    stats = [fid_features_to_statistics(x) for x in (a, b)]
    return fid_statistics_to_metric(*stats, verbose=False)[FID]


@pytest.mark.parametrize(
    "n, d, dead",
    [(300, 512, 0), (1200, 64, 0), (1200, 64, 3)],
    ids=["fewer-images", "fewer-dims", "fewer-dims-constant-features"],
)
def test_the_fast_frechet_step_is_torch_fidelitys(n, d, dead):
    """Both forms (nuclear norm; Cholesky, or eigendecomposition when a covariance is singular)."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, d, generator=g) * 1.3 + 0.2
    b = torch.randn(n + 17, d, generator=g)
    a[:, :dead] = 0.5  # features that never vary: a singular covariance
    expected = torch_fidelity_fid(a, b)
    assert frechet(a, b) == pytest.approx(expected, rel=1e-6)


def test_kid_and_precision_recall_replicates_use_torch_fidelitys_definitions():
    from torch_fidelity.metric_kid import kernel_poly, mmd2
    from torch_fidelity.metric_prc import prc_features_to_metric

    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(200, 32, generator=g), torch.randn(200, 32, generator=g) * 1.2
    options = dict(kid_kernel_poly_degree=3, kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=1)
    x, y = a.numpy(), b.numpy()
    kid = mmd2(
        kernel_poly(x, x, **options), kernel_poly(x, y, **options), kernel_poly(y, y, **options)
    )
    assert _kid(a, b) == pytest.approx(float(kid), rel=1e-4)
    theirs = prc_features_to_metric(a, b, prc_neighborhood=3, save_cpu_ram=True, verbose=False)
    assert precision_recall(a, b, 3) == pytest.approx((theirs["precision"], theirs["recall"]))


def lenet_features(images: torch.Tensor) -> torch.Tensor:
    from ganzoo_extractors.lenet import LeNetMnistExtractor

    net = LeNetMnistExtractor("lenet-mnist", ["features"])
    with torch.no_grad():
        return net(images.expand(-1, 3, -1, -1).contiguous())[0]


def test_replicates_from_gram_matrices_equal_replicates_from_features():
    """The resample path (Gram matrices once, distinct rows with weights) against recomputing each
    replicate from the drawn rows, on real MNIST features with real bootstrap draws."""
    from ganzoo.eval.resample import Gram, unique

    data = ganzoo.load_dataset("mnist5k", "all").images
    gen, real = lenet_features(data[:700]), lenet_features(data[2500:3100])
    gram, rng = Gram(gen, real), np.random.default_rng(3)
    for _ in range(3):
        ig, ir = rng.integers(0, 700, 700), rng.integers(0, 600, 600)
        assert gram.frechet(ig, ir) == pytest.approx(frechet(gen[ig], real[ir]), rel=1e-9)
        assert gram.frechet(ig, ir) == pytest.approx(
            torch_fidelity_fid(gen[ig], real[ir]), rel=1e-6
        )
        gi, ri = rng.choice(ig, 500), rng.choice(ir, 500)
        # _kid's kernel is float32 (as torch-fidelity's), the Gram path's float64.
        assert gram.kid(gi, ri) == pytest.approx(_kid(gen[gi], real[ri]), rel=1e-5, abs=1e-7)
        (ug, wg), (ur, wr) = unique(ig), unique(ir)
        direct = precision_recall(gen[ug], real[ur], 3, wg, wr)
        assert gram.precision_recall(ig, ir, 3) == pytest.approx(direct, abs=2e-3)


@pytest.fixture(scope="module")
def digits():
    data = ganzoo.load_dataset("mnist5k", "train")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    return data.images[order], data.labels[order]


def interval(images: torch.Tensor, key: str = FID) -> list[float]:
    result = ganzoo.evaluate(images, dataset="mnist5k", metrics="fid,kid,pr")
    for name, (low, high) in result.intervals.items():
        assert low <= result.metrics[name] <= high, name
    return result.intervals[key]


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


@pytest.mark.slow
def test_two_draws_of_one_generator_overlap_and_collapse_stands_apart(digits):
    """Real train digits stand in for a healthy generator; only ones for a collapsed one."""
    images, labels = digits
    first, second = interval(images[:300]), interval(images[300:600])
    assert overlap(first, second)
    collapsed = interval(images[labels == 1][:300])
    assert not overlap(first, collapsed) and collapsed[0] > first[1]


def test_fid_infinity_removes_small_sample_bias(digits, tmp_path):
    images, labels = digits
    half = len(images) // 2
    reference = tmp_path / "half.npz"
    np.savez(reference, images=images[half:].numpy())
    same = ganzoo.evaluate(images[:300], dataset=f"npz:{reference}", metrics="fid,fid_inf")
    assert abs(same.metrics["fid_infinity"]) < same.metrics[FID]
    assert same.protocol["settings"]["fid_inf"]["sizes"] == [60, 120, 180, 240, 300]
    noisy = (images[:300].float() + 60 * torch.randn(300, 1, 28, 28)).clamp(0, 255).byte()
    worse = ganzoo.evaluate(noisy, dataset=f"npz:{reference}", metrics="fid,fid_inf")
    assert 0 < worse.metrics["fid_infinity"] < worse.metrics[FID]


def test_fid_infinity_extrapolates_linearly_in_one_over_n():
    g = torch.Generator().manual_seed(2)
    real = torch.randn(2000, 8, generator=g)
    gen = torch.randn(1000, 8, generator=g) + 0.5
    found = fid_infinity(gen, real)
    (_, f0), (_, f1) = found["points"][0], found["points"][-1]
    assert f0 > f1 > found["value"] > 0  # FID falls with N towards its limit
    assert found["value"] == pytest.approx(8 * 0.25, rel=0.15)  # the true distance, 8 x 0.5^2


def test_only_covariances_of_many_high_dimensional_rows_count_as_heavy():
    from ganzoo.eval.uncertainty import heavy

    assert heavy(2048, 5000) and heavy(512, 512)
    assert not heavy(2048, 1000)  # fewer rows than dimensions: the Gram path
    assert not heavy(128, 50_000)  # lenet-mnist's features: products as cheap as gathers


def _heavy_features(n: int = 600, d: int = 512) -> tuple[dict, dict]:
    g = torch.Generator().manual_seed(0)
    gen, real = torch.randn(n, d, generator=g), torch.randn(n, d, generator=g) * 1.1 + 0.05
    return {"f": gen}, {"f": real}


def _fid_interval(device: str | None = None) -> list[float]:
    from ganzoo.eval.uncertainty import bootstrap

    gen, real = _heavy_features()
    estimate = {"frechet_inception_distance": frechet(gen["f"], real["f"])}
    device = torch.device(device) if device else None
    return bootstrap(
        ("fid",), {"fid": "f"}, gen, real, None, 3, estimate, resamples=8, device=device
    ).intervals["frechet_inception_distance"]


def test_heavy_replicates_use_every_thread_and_give_the_one_thread_numbers():
    from ganzoo.device import cpu_threads

    with cpu_threads(1):
        one = _fid_interval()
    every = _fid_interval()
    # Threads sum the float64 covariance products in another order: rounding, ~1e-9 here.
    assert every == pytest.approx(one, rel=1e-8)


@pytest.mark.cuda
def test_heavy_replicates_on_a_gpu_give_the_cpus_interval():
    assert _fid_interval("cuda") == pytest.approx(_fid_interval("cpu"), rel=1e-7)


def test_real_resamples_are_shared_and_generated_resamples_independent():
    """Replicate i of any generated set under one protocol draws the same real rows; two
    generated sets draw their own rows; the same images always draw the same ones."""
    from ganzoo.eval.replicates import fingerprint, streams

    data = ganzoo.load_dataset("mnist5k", "all").images
    a, b = lenet_features(data[:400]), lenet_features(data[400:800])
    in_batches = torch.cat([lenet_features(data[:400][i : i + 64]) for i in range(0, 400, 64)])
    # Rounding of another device or BLAS kernel (relative 1e-6) names the same images.
    noise = torch.randn(a.shape, generator=torch.Generator().manual_seed(0))
    rounded = a * (1 + 1e-6 * noise)
    assert fingerprint(in_batches) == fingerprint(rounded) == fingerprint(a) != fingerprint(b)
    for i in range(5):
        (gen_a, real_a), (gen_b, real_b) = (streams(0, fingerprint(x), 500, i) for x in (a, b))
        assert np.array_equal(real_a.integers(0, 500, 500), real_b.integers(0, 500, 500))
        assert not np.array_equal(gen_a.integers(0, 400, 400), gen_b.integers(0, 400, 400))
    (_, first), (_, second) = streams(0, 1, 500, 0), streams(0, 1, 500, 1)
    assert not np.array_equal(first.integers(0, 500, 500), second.integers(0, 500, 500))
    (_, other_seed), (_, other_count) = streams(1, 1, 500, 0), streams(0, 1, 501, 0)
    drawn = streams(0, 1, 500, 0)[1].integers(0, 500, 500)
    assert not np.array_equal(drawn, other_seed.integers(0, 500, 500))
    assert not np.array_equal(drawn, other_count.integers(0, 500, 500))


def test_kept_replicates_are_the_intervals_source_and_recorded_in_the_result(digits):
    """The result file keeps the replicates its intervals were computed from."""
    from ganzoo.eval.replicates import interval

    images, _ = digits
    result = ganzoo.evaluate(images[:200], dataset="mnist5k", metrics="fid,pr")
    kept = result.as_dict()["bootstrap_replicates"]
    assert set(kept) == set(result.intervals) == {FID, "precision", "recall"}
    assert all(len(values) == 100 for values in kept.values())
    bounds = {FID: (0.0, np.inf), "precision": (0.0, 1.0), "recall": (0.0, 1.0)}
    for key, values in kept.items():
        assert interval(values, result.metrics[key], bounds[key]) == result.intervals[key]
    assert result.protocol["settings"]["bootstrap"]["scheme"] == "paired-1"
