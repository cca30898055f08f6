"""DINOv2 extractors: the real path, offline, with a randomly initialised ViT-B/14 in Meta's layout.

The numbers are meaningless; the path is real: a state dict with Meta's keys
(``mask_token``, position embeddings for 518 px), found through
``--extractor-weights``, checked and loaded with ``weights_only=True``, turned
into timm's network at 224 px.  Its features are compared with the reference
computation written out here step by step (PIL bicubic to 224, ImageNet
normalisation, patches, the CLS token, the position embeddings interpolated as
Meta's model does at run time, the blocks, the final norm's CLS token).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo.cli import cli

timm = pytest.importorskip("timm")


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.delenv("GANZOO_DINOV2_WEIGHTS", raising=False)


@pytest.fixture(scope="module")
def meta_vit_b(tmp_path_factory):
    """(path of a random ViT-B/14 state dict in Meta's layout, the network it came from)."""
    torch.manual_seed(0)
    net = timm.create_model("vit_base_patch14_dinov2", pretrained=False, img_size=518).eval()
    with torch.no_grad():  # layer scales and position embeddings far from their initial values
        for name, p in net.named_parameters():
            if name.endswith(("gamma", "pos_embed", "cls_token")):
                p.normal_(0, 0.5)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    state["mask_token"] = torch.zeros(1, 768)  # Meta's file has it; the features never use it
    assert state["pos_embed"].shape == (1, 37 * 37 + 1, 768)
    path = tmp_path_factory.mktemp("dinov2") / "dinov2_vitb14_pretrain.pth"
    torch.save(state, path)
    return path, net


def digits(n: int = 6) -> torch.Tensor:
    images = ganzoo.load_dataset("mnist5k", "test").images[:n]
    return images.expand(-1, 3, -1, -1).contiguous()  # the evaluator tiles gray to RGB


def reference_pixels(images: torch.Tensor) -> torch.Tensor:
    """dgm-eval's transform, one image at a time: PIL bicubic to 224, ToTensor, Normalize."""
    out = []
    for image in images:
        pil = Image.fromarray(image.permute(1, 2, 0).numpy()).resize((224, 224), Image.BICUBIC)
        x = torch.from_numpy(np.array(pil)).permute(2, 0, 1).float() / 255
        mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
        out.append((x - mean[:, None, None]) / std[:, None, None])
    return torch.stack(out)


def reference_features(net, images: torch.Tensor) -> torch.Tensor:
    """Meta's forward at 224 px, written out with the 518 px network's own modules."""
    x = reference_pixels(images)
    proj = net.patch_embed.proj
    tokens = F.conv2d(x, proj.weight, proj.bias, stride=14).flatten(2).transpose(1, 2)
    pos = net.pos_embed.detach()
    grid = pos[:, 1:].reshape(1, 37, 37, 768).permute(0, 3, 1, 2)
    scale = (16 + 0.1) / 37  # Meta's interpolate_offset
    grid = F.interpolate(grid, scale_factor=(scale, scale), mode="bicubic", antialias=False)
    pos = torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, 256, 768)], dim=1)
    x = torch.cat([net.cls_token.expand(len(x), -1, -1), tokens], dim=1) + pos
    with torch.no_grad():
        for block in net.blocks:
            x = block(x)
        return net.norm(x)[:, 0]


def test_preprocessing_is_pils_step_by_step():
    from ganzoo_extractors.dinov2 import preprocess

    images = digits(4)
    assert torch.equal(preprocess(images), reference_pixels(images))


@pytest.mark.slow
def test_features_are_the_cls_token_of_metas_forward(meta_vit_b):
    from ganzoo_extractors.dinov2 import Dinov2Extractor

    path, net = meta_vit_b
    extractor = Dinov2Extractor("dinov2-vit-b-14", ["dinov2"], str(path))
    images = digits(4)
    with torch.no_grad():
        (ours,) = extractor(images)
    expected = reference_features(net, images)
    assert ours.shape == (4, 768)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)  # measured: 1.5e-6


@pytest.mark.slow
def test_an_evaluation_runs_from_metas_file(meta_vit_b, tmp_path):
    path, _ = meta_vit_b
    reference = tmp_path / "ref.npz"
    np.savez(reference, images=ganzoo.load_dataset("mnist5k", "train").images[:8].numpy())
    result = ganzoo.evaluate(
        ganzoo.load_dataset("mnist5k", "test").images[:8], dataset=f"npz:{reference}",
        metrics="fid", extractor="dinov2-vit-b-14", extractor_weights=str(path),
    )  # fmt: skip
    assert np.isfinite(result.metrics["frechet_inception_distance"])
    extractor = result.protocol["extractor"]
    assert extractor["name"] == "dinov2-vit-b-14" and extractor["layers"]["fid"] == "dinov2"
    assert extractor["weights_source"] == "explicit path"
    assert "224" in extractor["resize"]


def test_without_weights_it_is_one_line_listing_every_way(tmp_path):
    np.savez(tmp_path / "s.npz", images=digits(4)[:, :1].numpy())
    args = [
        "eval",
        str(tmp_path / "s.npz"),
        "--dataset",
        "mnist5k",
        "--extractor",
        "dinov2-vit-l-14",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1, result.output
    for way in ("--extractor-weights", "GANZOO_DINOV2_WEIGHTS", "dinov2_vitl14_pretrain.pth"):
        assert way in result.stderr
    assert "dl.fbaipublicfiles.com" in result.stderr


def test_weights_of_another_size_name_the_extractor_they_fit():
    from ganzoo_extractors.dinov2 import timm_state

    state = {"cls_token": torch.zeros(1, 1, 768), "pos_embed": torch.zeros(1, 1370, 768)}
    state |= {f"blocks.{i}.attn.qkv.weight": torch.zeros(1) for i in range(12)}
    with pytest.raises(ganzoo.GanzooError, match="width 1024 and 24 blocks.*fit dinov2-vit-b-14"):
        timm_state("dinov2-vit-l-14", state)
    with pytest.raises(ganzoo.GanzooError, match="register tokens"):
        timm_state("dinov2-vit-b-14", state | {"register_tokens": torch.zeros(1, 4, 768)})
    with pytest.raises(ganzoo.GanzooError, match="not a DINOv2 state dict"):
        timm_state("dinov2-vit-b-14", {"weight": torch.zeros(1)})


def test_the_listing_says_how_to_get_the_weights():
    result = CliRunner().invoke(cli, ["extractors"])
    assert result.exit_code == 0
    for name in ("dinov2-vit-b-14", "dinov2-vit-l-14"):
        line = next(x for x in result.output.splitlines() if x.startswith(name))
        assert "--extractor-weights" in line and "GANZOO_DINOV2_WEIGHTS" in line


def test_weights_with_the_right_sizes_but_missing_tensors_are_one_line(tmp_path):
    from ganzoo_extractors.dinov2 import Dinov2Extractor

    state = {"cls_token": torch.zeros(1, 1, 768), "pos_embed": torch.zeros(1, 1370, 768)}
    state |= {f"blocks.{i}.attn.qkv.weight": torch.zeros(2304, 768) for i in range(12)}
    torch.save(state, tmp_path / "partial.pth")
    with pytest.raises(ganzoo.GanzooError, match="do not fit its network"):
        Dinov2Extractor("ganzoo-dinov2-vit-b-14", ["dinov2"], str(tmp_path / "partial.pth"))
