"""Copy rate and C_T: the numbers say what they claim, on real digits and by the definition.

On MNIST pixels a "model" that returns its training digits with slight noise must
be caught (copy rate near 1, C_T far below 0), real digits it never saw must look
like an honest model (copy rate near the 5% of the threshold, C_T near 0), and
noise far from every digit must read as underfitting (C_T far above 0).  The
statistic itself is checked against a direct computation after the reference code
(in-cell nearest neighbours and scipy's Mann-Whitney U), the distances against
SciPy's, and bad input must stop with one line.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from scipy.stats import mannwhitneyu

import ganzoo
from ganzoo.errors import GanzooError
from ganzoo.eval.memorization import data_copying_ct, kmeans, memorization, z_u


@pytest.fixture(scope="module")
def digits():
    """MNIST training and test digits as flat float64 pixels in [0, 1] (both sorted by class)."""
    train, test = (
        ganzoo.load_dataset("mnist5k", split).images.flatten(1).double() / 255
        for split in ("train", "test")
    )
    return train, test


def noise(shape, std, seed=0):
    return std * torch.randn(
        *shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )


def inside(value, interval):
    return interval[0] <= value <= interval[1]


def test_a_model_returning_noisy_training_digits_is_caught(digits):
    train, test = digits
    source = torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:1000]
    copies = train[source] + noise((1000, 784), 0.05)  # 5% of the pixel range per pixel
    report = memorization(train, test, copies, cells=10)
    print(f"memorizing: copy rate {report.copy_rate}, C_T {report.ct:.2f}", report.intervals())
    assert report.copy_rate > 0.9 and inside(report.copy_rate, report.copy_rate_interval)
    assert report.ct < -5 and inside(report.ct, report.ct_interval) and report.ct_interval[1] < -5
    assert (report.nearest_index == source).float().mean() > 0.99  # the gallery finds the source
    assert sum(c["used"] for c in report.cells) >= 8


def test_real_digits_the_model_never_saw_look_like_an_honest_model(digits):
    train, test = digits
    report = memorization(train, test[::2], test[1::2], cells=5)  # two class-balanced halves
    print(f"held-out: copy rate {report.copy_rate}, C_T {report.ct:.2f}", report.intervals())
    assert 0 <= report.copy_rate <= 0.15 and inside(report.copy_rate, report.copy_rate_interval)
    assert abs(report.ct) < 2 and inside(report.ct, report.ct_interval)
    assert report.ct_interval[0] < 0 < report.ct_interval[1]
    assert report.threshold == pytest.approx(np.quantile(report.heldout_distance.numpy(), 0.05))


def test_noise_far_from_every_digit_reads_as_underfitting(digits):
    train, test = digits
    noisy = (test + noise(test.shape, 0.5)).clamp(0, 1)  # far from every digit
    report = memorization(train, test, noisy, cells=5)
    print(f"underfitting: copy rate {report.copy_rate}, C_T {report.ct:.2f}", report.intervals())
    assert report.copy_rate == 0 and report.copy_rate_interval == [0.0, 0.0]
    assert report.ct > 5 and report.ct_interval[0] > 5


def gaussians(seed=0, d=6):
    """Training rows, held-out rows, and generated rows of which a third copy training rows."""
    g = torch.Generator().manual_seed(seed)
    train, heldout = (torch.randn(n, d, generator=g, dtype=torch.float64) for n in (300, 60))
    fresh = torch.randn(80, d, generator=g, dtype=torch.float64)
    copies = train[:40] + 0.01 * torch.randn(40, d, generator=g, dtype=torch.float64)
    return train, heldout, torch.cat([fresh, copies])


def test_nearest_training_rows_match_scipy_for_any_chunk():
    train, heldout, generated = gaussians()
    reports = [memorization(train, heldout, generated, cells=3, chunk=c) for c in (7, 1024)]
    for rows, got in ((generated, "nearest"), (heldout, None)):
        d = cdist(rows.numpy(), train.numpy())
        expected = d.min(axis=1)
        for report in reports:
            distance = report.nearest_distance if got else report.heldout_distance
            np.testing.assert_allclose(distance.numpy(), expected, rtol=0, atol=1e-12)
            if got:
                assert np.array_equal(report.nearest_index.numpy(), d.argmin(axis=1))
    a, b = reports
    assert (a.metrics(), a.intervals(), a.cells) == (b.metrics(), b.intervals(), b.cells)
    assert torch.equal(a.nearest_index, b.nearest_index)


def test_nearest_pairs_are_the_closest_generated_rows_nearest_first():
    train, heldout, generated = gaussians()
    pairs = memorization(train, heldout, generated, cells=3).nearest_pairs(8)
    d = cdist(generated.numpy(), train.numpy())
    assert len(pairs) == 8 and [p[2] for p in pairs] == sorted(p[2] for p in pairs)
    assert {p[0] for p in pairs} == set(np.argsort(d.min(axis=1))[:8].tolist())
    for g, t, distance in pairs:
        assert t == d[g].argmin() and distance == pytest.approx(d[g, t], abs=1e-12)
    assert all(g >= 80 for g, _, _ in pairs)  # the planted copies come first


def reference_ct(train, heldout, generated, centroids, tau):
    """C_T after the reference's ``C_T``/``Zu_cells``/``Zu``: cells by nearest centroid,
    in-cell nearest training distances, scipy's U z-scored with the continuity term."""
    cell = [cdist(x, centroids).argmin(axis=1) for x in (train, heldout, generated)]
    zus, weights = {}, {}
    for c in range(len(centroids)):
        t, p, q = (x[k == c] for x, k in zip((train, heldout, generated), cell, strict=True))
        if len(q) <= tau or len(p) == 0:
            continue
        lp, lq = cdist(p, t).min(axis=1), cdist(q, t).min(axis=1)
        u = mannwhitneyu(lq, lp, alternative="less").statistic
        n, m = len(p), len(q)
        zus[c] = (u - (n * m / 2 - 0.5)) / math.sqrt(n * m * (n + m + 1) / 12)
        weights[c] = n / len(heldout)
    return sum(weights[c] * zus[c] for c in zus) / sum(weights.values()), zus


def test_ct_agrees_with_a_direct_computation_in_fixed_cells():
    train, heldout, generated = gaussians(seed=3)
    centroids = kmeans(train, 6, seed=5)
    report = memorization(train, heldout, generated, cells=centroids, cell_tau=12)
    expected, zus = reference_ct(*(x.numpy() for x in (train, heldout, generated, centroids)), 12)
    used = {c["cell"] for c in report.cells if c["used"]}
    assert used == set(zus) and 0 < len(used) < 6  # some cells hold too few generated rows
    assert report.ct == pytest.approx(expected, abs=1e-12)
    for c in report.cells:
        assert c["z_u"] is None if not c["used"] else c["z_u"] == pytest.approx(zus[c["cell"]])
    assert sum(c["train"] for c in report.cells) == 300
    assert sum(c["heldout_share"] for c in report.cells) == pytest.approx(1)


def test_z_u_and_ct_counted_by_hand():
    # Pairs (generated > held-out): 2>1, 3>1, and 3=3 counts 1/2: U = 2.5 = mn/2 - 1/2, so Z_U = 0.
    assert z_u(np.array([1.0, 3.0, 5.0]), np.array([2.0, 3.0])) == 0
    # U = 0 (closer than every held-out row): Z_U = -(1 - 1/2) / sqrt(2 * 4 / 12).
    assert z_u(np.array([1.0, 2.0]), np.array([0.5])) == pytest.approx(-0.5 / math.sqrt(2 / 3))
    assert mannwhitneyu([2.0, 3.0], [1.0, 3.0, 5.0]).statistic == 2.5  # U as scipy counts it
    # Cell 0: held-out [1, 2] vs generated [0.5, 0.6] -> U = 0, Z = -(2 - 1/2)/sqrt(4 * 5/12);
    # cell 1: three held-out rows, but one generated row is not more than tau = 1: skipped;
    # cell 2: one held-out row [1] vs generated [2, 3] -> U = 2, Z = (2 - 1/2)/sqrt(2 * 4/12).
    heldout = (np.array([1.0, 2.0, 9.0, 9.0, 9.0, 1.0]), np.array([0, 0, 1, 1, 1, 2]))
    generated = (np.array([0.5, 0.6, 9.0, 2.0, 3.0]), np.array([0, 0, 1, 2, 2]))
    ct, zu, used = data_copying_ct(heldout, generated, np.array([5, 5, 5]), cell_tau=1)
    z0, z2 = -1.5 / math.sqrt(20 / 12), 1.5 / math.sqrt(8 / 12)
    assert used.tolist() == [True, False, True] and np.isnan(zu[1])
    assert zu[[0, 2]] == pytest.approx([z0, z2])
    assert ct == pytest.approx((2 / 6 * z0 + 1 / 6 * z2) / (3 / 6))


def test_kmeans_is_seeded_and_leaves_no_cell_empty():
    train, _, _ = gaussians()
    a, b = kmeans(train, 8, seed=0), kmeans(train, 8, seed=0)
    assert torch.equal(a, b) and a.shape == (8, 6)
    assert not torch.equal(a, kmeans(train, 8, seed=1))
    assert len(kmeans(torch.tensor([[0.0], [1.0]]).repeat(10, 1).double(), 5)) == 2


def test_numpy_input_results_file_and_too_few_generated_rows_for_any_cell():
    train, heldout, generated = (x.numpy() for x in gaussians())
    report = memorization(train, heldout, generated[:10], cells=3, resamples=20)
    assert math.isnan(report.ct) and all(math.isnan(v) for v in report.ct_interval)
    assert not any(c["used"] for c in report.cells)  # 10 generated rows, none over tau = 20
    assert report.metrics().keys() == report.intervals().keys() == {"copy_rate", "data_copying_ct"}
    assert all(type(v) is float for v in report.metrics().values())
    assert all(type(v) is float for pair in report.intervals().values() for v in pair)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda t, h, g: (t[:, :, None], h, g), r"train as a 2-D .*got shape \(300, 6, 1\)"),
        (lambda t, h, g: (t, h[:, :5], g), r"differ in width \(train 6, heldout 5, generated 6\)"),
        (lambda t, h, g: (t, h, g.index_fill(1, torch.tensor([2]), math.nan)), "generated .* NaN"),
        (lambda t, h, g: (t.index_fill(0, torch.tensor([0]), math.inf), h, g), "train .* infinite"),
        (lambda t, h, g: (t, h[:19], g), "at least 20 held-out images, got 19"),
        (lambda t, h, g: (t, h, g[:0]), "at least one generated image, got 0"),
        (lambda t, h, g: (t[:40], h, g), r"one per training image \(40\), got cells=50"),
    ],
)
def test_bad_input_is_one_actionable_line(change, match):
    with pytest.raises(GanzooError, match=match) as caught:
        memorization(*change(*gaussians()))
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"quantile": 0.0}, "quantile must lie between 0 and 1, got 0.0"),
        ({"cells": 0}, "got cells=0"),
        ({"cells": torch.zeros(3, 4)}, r"differ in width .*centroids 4"),
    ],
)
def test_bad_options_are_one_line(options, match):
    with pytest.raises(GanzooError, match=match):
        memorization(*gaussians(), **options)
