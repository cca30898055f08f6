"""Density and coverage: the paper's definitions, checked against a direct NumPy computation.

Beyond agreeing with explicit loops to 1e-12, the numbers must say what the
paper says they say (about 1 and near-full coverage for two draws of one
distribution, exactly 0 for disjoint ones), the weighted form used for
bootstrap replicates must equal the plain one on explicitly repeated points,
and bad input must stop with one line that says how to fix it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from ganzoo.errors import GanzooError
from ganzoo.eval.density import Distances, density_coverage, weighted_density_coverage


def reference(x, y, k, x_ids=None):
    """Density and coverage by the definition, one real point at a time; a real point's ball
    reaches its k-th nearest real point that is not itself (nor, given ``x_ids``, a copy)."""
    x_ids = np.arange(len(x)) if x_ids is None else x_ids
    within, cross = cdist(x, x), cdist(x, y)
    hits, covered = 0, 0
    for i in range(len(x)):
        radius = np.sort(within[i][x_ids != x_ids[i]])[k - 1]
        inside = cross[i] <= radius
        hits += int(inside.sum())
        covered += bool(inside.any())
    return {"density": hits / (k * len(y)), "coverage": covered / len(x)}


def gaussians(n, m, d, shift=0.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64), torch.randn(
        m, d, generator=g, dtype=torch.float64
    ) + shift


@pytest.mark.parametrize("k", [1, 3, 5])
def test_agrees_with_a_direct_numpy_computation(k):
    real, fake = gaussians(300, 250, 8)
    fake = fake * 1.2 + 0.3  # a different distribution: density and coverage well inside (0, 1)
    got, expected = density_coverage(real, fake, k), reference(real.numpy(), fake.numpy(), k)
    assert got.keys() == {"density", "coverage"}
    assert 0.1 < expected["density"] < 1 and 0.1 < expected["coverage"] < 1
    for key in got:
        assert got[key] == pytest.approx(expected[key], abs=1e-12)


def test_two_draws_of_one_gaussian_have_density_near_1_and_high_coverage():
    real, fake = gaussians(2000, 2000, 16)
    got = density_coverage(real.float(), fake.float())
    assert abs(got["density"] - 1) < 0.1
    # A real point is uncovered when none of the ~2k nearest draws is fake: about 2^-5.
    assert got["coverage"] > 0.9


def test_disjoint_gaussians_have_density_and_coverage_0():
    real, fake = gaussians(500, 500, 16, shift=100.0)
    assert density_coverage(real, fake) == {"density": 0.0, "coverage": 0.0}


def test_fakes_equal_to_the_real_images_cover_them_all():
    real, _ = gaussians(400, 1, 16)
    got = density_coverage(real, real.clone())
    # Each ball holds its centre's copy and, ties counting as inside, its k nearest: (k + 1) / k.
    assert got == {"density": pytest.approx(6 / 5, abs=1e-12), "coverage": 1.0}
    every = np.arange(len(real))
    assert Distances(real, real.clone()).replicate(every, every) == got  # the same ties
    shuffled = real[torch.randperm(len(real), generator=torch.Generator().manual_seed(1))]
    assert density_coverage(real, shuffled)["coverage"] == 1.0


def test_chunking_does_not_change_the_answer():
    real, fake = gaussians(300, 200, 8, shift=0.2)
    assert density_coverage(real, fake, chunk=7) == density_coverage(real, fake)


def test_weighted_form_with_single_draws_is_the_plain_one_exactly():
    real, fake = gaussians(300, 200, 8, shift=0.2)
    ones = (torch.ones(len(x), dtype=torch.float64) for x in (real, fake))
    plain = density_coverage(real, fake, 4)
    assert (
        weighted_density_coverage(torch.cdist(real, real), torch.cdist(real, fake), 4, *ones)
        == plain
    )
    distances = Distances(real, fake, k=4, chunk=64)
    assert distances.replicate(np.arange(len(real)), np.arange(len(fake))) == plain


def test_fake_multiplicities_are_explicitly_repeated_fakes():
    real, fake = gaussians(300, 200, 8, shift=0.2)
    counts = torch.from_numpy(np.random.default_rng(0).integers(1, 5, len(fake)))
    ones = torch.ones(len(real), dtype=torch.float64)
    weighted = weighted_density_coverage(
        torch.cdist(real, real), torch.cdist(real, fake), 5, ones, counts
    )
    assert weighted == density_coverage(real, fake.repeat_interleave(counts, dim=0))


@pytest.mark.parametrize("count_copies", [True, False])
def test_a_replicate_is_the_resampled_sets_metric_without_own_copies_as_neighbours(count_copies):
    """Real copies: a replicate's ball around a real point skips that point's own copies and
    counts other points as often as they were drawn (``count_copies``), or once each."""
    real, fake = gaussians(120, 100, 6, shift=0.2)
    rng = np.random.default_rng(0)
    ir, ig = rng.integers(0, len(real), len(real)), rng.integers(0, len(fake), len(fake))
    got = Distances(real, fake, k=3).replicate(ir, ig, count_copies)
    if count_copies:  # the resampled sets themselves, copies of a point not its neighbours
        expected = reference(real[ir].numpy(), fake[ig].numpy(), 3, x_ids=ir)
    else:  # radii of the distinct points, then every draw counted
        distinct = np.unique(ir)
        within = cdist(real[distinct].numpy(), real[distinct].numpy())
        np.fill_diagonal(within, np.inf)
        radius = dict(zip(distinct, np.sort(within, axis=1)[:, 2], strict=True))
        inside = (
            cdist(real[ir].numpy(), fake[ig].numpy()) <= np.array([radius[i] for i in ir])[:, None]
        )
        expected = {"density": inside.sum() / (3 * len(ig)), "coverage": inside.any(1).mean()}
    for key in got:
        assert got[key] == pytest.approx(expected[key], abs=1e-12)


def test_counting_copies_keeps_replicates_near_the_estimate():
    """Why copies count: radii over the ~63% distinct points alone hold ~k/0.63 draws."""
    real, fake = gaussians(1000, 1000, 8)
    distances, rng = Distances(real, fake), np.random.default_rng(0)
    estimate = density_coverage(real, fake)["density"]
    ir, ig = rng.integers(0, 1000, 1000), rng.integers(0, 1000, 1000)
    assert abs(distances.replicate(ir, ig)["density"] - estimate) < 0.25
    assert distances.replicate(ir, ig, count_copies=False)["density"] > 1.4 * estimate


def test_a_replicate_needs_k_other_real_draws():
    real, fake = gaussians(10, 5, 4)
    with pytest.raises(GanzooError, match=r"^density/coverage with k=5 need at least 5 real draws"):
        Distances(real, fake).replicate(np.array([0, 0, 0, 0, 0, 0, 1, 2]), np.arange(5))


@pytest.mark.parametrize(
    "real, fake, k, message",
    [
        (
            torch.zeros(10),
            torch.zeros(3, 4),
            5,
            r"need real features as a 2-D .* got shape \(10,\)",
        ),
        (torch.zeros(10, 4), torch.zeros(2, 3, 4), 5, r"need fake features as a 2-D"),
        (torch.zeros(10, 4), torch.zeros(3, 5), 5, r"differ in width \(4 vs 5\)"),
        (torch.zeros(10, 4), torch.full((3, 4), float("nan")), 5, r"^fake features contain NaN"),
        (torch.zeros(10, 4), torch.zeros(0, 4), 5, r"at least one fake image, got 0"),
        (torch.zeros(10, 4), torch.zeros(3, 4), 0, r"need k >= 1, got k=0"),
        (
            torch.zeros(3, 4),
            torch.zeros(3, 4),
            5,
            r"^density/coverage with k=5 need at least 6 real images, got 3; "
            r"use more images or a smaller k$",
        ),
    ],
    ids=["1-d", "3-d", "widths", "nan", "no-fakes", "k=0", "too-few-real"],
)
def test_bad_input_is_one_line_that_says_what_to_do(real, fake, k, message):
    with pytest.raises(GanzooError, match=message) as caught:
        density_coverage(real, fake, k)
    assert "\n" not in str(caught.value)
