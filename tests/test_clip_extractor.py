"""CLIP extractors: the real path, offline, with a randomly initialised encoder of the right shape.

The numbers are meaningless; the plumbing is real: weights resolution, the
safety check (a plain state dict passes, an unknown TorchScript archive does
not), torch-fidelity's CLIP network built from the file, features of the
declared size, and the protocol naming the extractor.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ganzoo


@pytest.fixture(scope="module")
def random_vit_b_32(tmp_path_factory):
    from torch_fidelity.feature_extractor_clip import CLIPVisual

    net = CLIPVisual(512, 224, 12, 768, 32)  # ViT-B/32's visual tower, random weights
    state = {k: v.clone() for k, v in net.state_dict().items()}
    state["text_projection"] = torch.zeros(512, 512)  # build_model reads the embedding size here
    path = tmp_path_factory.mktemp("clip") / "vit-b-32.pt"
    torch.save(state, path)
    return path


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.delenv("GANZOO_CLIP_WEIGHTS", raising=False)


@pytest.mark.slow
def test_a_clip_encoder_scores_from_a_plain_state_dict(random_vit_b_32, tmp_path):
    images = ganzoo.load_dataset("mnist5k", "train").images[:24]
    reference = tmp_path / "ref.npz"
    np.savez(reference, images=images[12:].numpy())
    result = ganzoo.evaluate(
        images[:12], dataset=f"npz:{reference}", extractor="clip-vit-b-32",
        extractor_weights=str(random_vit_b_32), metrics="fid,kid", kid_subset_size=6,
    )  # fmt: skip
    assert np.isfinite(result.metrics["frechet_inception_distance"])
    assert result.protocol["extractor"]["name"] == "clip-vit-b-32"
    assert result.protocol["extractor"]["layers"] == {"fid": "clip", "kid": "clip"}


def test_without_weights_it_is_one_line_listing_every_way():
    images = ganzoo.load_dataset("mnist5k", "test").images[:10]
    with pytest.raises(
        ganzoo.GanzooError, match="no weights for clip-vit-b-32.*--extractor-weights"
    ):
        ganzoo.evaluate(images, extractor="clip-vit-b-32", metrics="fid")


def test_an_unknown_torchscript_archive_is_refused(tmp_path):
    scripted = torch.jit.script(torch.nn.Linear(2, 2))
    path = tmp_path / "not-openai.pt"
    scripted.save(str(path))
    images = ganzoo.load_dataset("mnist5k", "test").images[:10]
    with pytest.raises(ganzoo.GanzooError, match="sha256"):
        ganzoo.evaluate(
            images, extractor="clip-vit-b-32", extractor_weights=str(path), metrics="fid"
        )


def test_is_is_not_offered_by_clip(random_vit_b_32):
    images = ganzoo.load_dataset("mnist5k", "test").images[:10]
    with pytest.raises(ganzoo.GanzooError, match="no layer for is"):
        ganzoo.evaluate(
            images, extractor="clip-vit-b-32", extractor_weights=str(random_vit_b_32), metrics="is"
        )
