"""``ganzoo.score_features``: the evaluator's numbers and intervals from any two feature arrays.

The features of real mnist5k digits (lenet-mnist, the extractor ``ganzoo eval``
uses for them) scored here must equal ``ganzoo.evaluate`` on the same images,
numbers and bootstrap intervals alike: one implementation of each metric.
FID is also checked against an independent float64 SciPy computation, and the
example in docs/evaluation.md is run as written.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

import ganzoo

DOCS = Path(__file__).resolve().parents[1] / "docs" / "evaluation.md"


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """(300 training digits, every test digit) as uint8 images."""
    train = ganzoo.load_dataset("mnist5k", "train")
    keep = torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:300]
    return train.images[keep], ganzoo.load_dataset("mnist5k", "test").images


def lenet_features(images: torch.Tensor) -> torch.Tensor:
    from ganzoo_extractors.lenet import LeNetMnistExtractor

    net = LeNetMnistExtractor("lenet-mnist", ["features"])
    with torch.no_grad():
        return net(images.expand(-1, 3, -1, -1))[0]


def test_features_score_as_ganzoo_eval_scores_the_images(digits):
    generated, real = digits
    metrics = "fid,kid,pr,dc"
    ours = ganzoo.evaluate(generated, dataset="mnist5k", metrics=metrics, kid_subset_size=200)
    scores = ganzoo.score_features(
        lenet_features(real), lenet_features(generated), metrics, kid_subset_size=200
    )
    assert set(scores.metrics) == set(ours.metrics)
    for key, value in ours.metrics.items():
        assert scores.metrics[key] == pytest.approx(value, rel=1e-6), key
    assert set(scores.intervals) == set(ours.intervals) == {
        "frechet_inception_distance", "kernel_inception_distance_mean", "precision", "recall",
        "density", "coverage",
    }  # fmt: skip
    for key, (low, high) in ours.intervals.items():
        assert scores.intervals[key] == pytest.approx([low, high], rel=1e-6, abs=1e-9), key
        assert low <= ours.metrics[key] <= high
    settings = ours.protocol["settings"]
    for key in (
        "kid_subset_size",
        "kid_subsets",
        "prc_neighborhood",
        "dc_neighborhood",
        "rng_seed",
    ):
        assert scores.settings[key] == settings[key], key


def test_fid_equals_a_float64_scipy_computation_and_is_zero_for_a_set_with_itself(digits):
    from scipy import linalg

    generated, real = (lenet_features(x).double().numpy() for x in digits)
    mu1, mu2 = (f.mean(0) for f in (generated, real))
    s1, s2 = (np.cov(f, rowvar=False) for f in (generated, real))
    covmean = linalg.sqrtm(s1 @ s2).real
    expected = float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2) - 2 * np.trace(covmean))
    fid = ganzoo.score_features(real, generated, "fid", intervals=False)
    assert fid.metrics["frechet_inception_distance"] == pytest.approx(expected, rel=1e-5)
    itself = ganzoo.score_features(real, real, "fid", intervals=False)
    assert abs(itself.metrics["frechet_inception_distance"]) < 1e-6


BAD = [
    (np.zeros((10, 4, 4)), np.zeros((10, 16)), "fid", "the real features must be 2-D"),
    (np.zeros((10, 8)), np.zeros((10, 16)), "fid", "the feature arrays differ in width"),
    (np.full((10, 4), np.nan), np.zeros((10, 4)), "fid", "real features hold NaN"),
    (np.array([["a"]] * 10), np.zeros((10, 1)), "fid", "must be a numeric array"),
    ([[0.0] * 4] * 10, np.zeros((10, 4)), "fid", "must be a NumPy array or a torch tensor"),
    (np.zeros((10, 4)), np.zeros((10, 4)), "is", "is cannot be computed from features alone"),
    (np.zeros((3, 4)), np.zeros((3, 4)), "pr", "precision/recall need more than 3 images"),
    (np.zeros((5, 4)), np.zeros((9, 4)), "dc", "density/coverage with k=5 need at least 6 real"),
    (np.zeros((10, 4)), np.zeros((10, 4)), "fud", "unknown metric 'fud'"),
    (np.ones((10, 4)), np.ones((10, 4, 2)), "cmmd", "must be 2-D (images x feature width)"),
    (np.zeros((10, 4)), np.ones((10, 4)), "cmmd", "CMMD needs at least one row of real features"),
]


@pytest.mark.parametrize("real, generated, metrics, message", BAD, ids=lambda v: str(v)[:20])
def test_bad_features_are_one_clear_line(real, generated, metrics, message):
    with pytest.raises(ganzoo.GanzooError, match=re.escape(message)):
        ganzoo.score_features(real, generated, metrics)


def test_the_documented_example_runs_as_written():
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(r"<!-- run: score-features -->\s*```python\n(.*?)```", text, re.DOTALL)
    assert found, "docs/evaluation.md lost its score_features example"
    namespace: dict = {}
    exec(compile(found.group(1), str(DOCS), "exec"), namespace)  # noqa: S102
    scores, fid = namespace["scores"], namespace["fid"]
    assert namespace["low"] <= fid <= namespace["high"] and fid > 0
    assert set(scores.intervals) >= {"frechet_inception_distance", "precision", "recall"}


def test_density_and_coverage_with_intervals_from_the_definition():
    """Two draws of one Gaussian: density near 1, coverage high, each inside its interval;
    a generator that collapsed onto 20 of the real points covers far less (Naeem et al.)."""
    rng = np.random.default_rng(0)
    real, generated = rng.normal(size=(2, 1000, 16))
    same = ganzoo.score_features(real, generated, "dc")
    assert abs(same.metrics["density"] - 1) < 0.15 and same.metrics["coverage"] > 0.9
    for key in ("density", "coverage"):
        low, high = same.intervals[key]
        assert low < same.metrics[key] < high and high - low < 0.4, key
    assert same.settings["dc_neighborhood"] == 5
    collapsed = real[rng.integers(0, 20, 1000)] + rng.normal(scale=1e-3, size=(1000, 16))
    mode = ganzoo.score_features(real, collapsed, "dc")
    assert mode.metrics["coverage"] < 0.2 < same.intervals["coverage"][0]


def test_memorization_on_features_equals_ganzoo_eval_on_the_images(digits):
    """Training digits as samples: copies.  score_features takes the model's training features
    as ``train`` and the held-out real ones as ``real``, as ganzoo eval's feature side does."""
    generated, heldout = digits
    ours = ganzoo.evaluate(generated, metrics="memorization", train_dataset="mnist5k")
    training = ganzoo.load_dataset("mnist5k", "train").images
    scores = ganzoo.score_features(
        lenet_features(heldout), lenet_features(generated), "memorization",
        train=lenet_features(training),
    )  # fmt: skip
    assert set(scores.metrics) == {"copy_rate", "data_copying_ct"}
    assert scores.metrics["copy_rate"] == ours.metrics["copy_rate"] == 1.0
    for key in scores.metrics:
        assert scores.metrics[key] == pytest.approx(ours.metrics[key], rel=1e-6), key
        assert scores.intervals[key] == pytest.approx(ours.intervals[key], rel=1e-6), key
    recorded = ours.protocol["training"]["memorization"]
    assert scores.settings["memorization"] == {k: v for k, v in recorded.items() if k != "spaces"}
    with pytest.raises(ganzoo.GanzooError, match="pass train="):
        ganzoo.score_features(lenet_features(heldout), lenet_features(generated), "memorization")
