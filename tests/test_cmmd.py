"""CMMD (Jayasumana et al. 2024) and the CLIP ViT-L/14-336 extractor it is defined on.

The estimator is checked against a plain float64 NumPy computation of the
reference formula (google-research/cmmd ``distance.py``: biased MMD^2, RBF
kernel with sigma = 10, x 1000, L2-normalised embeddings), against a value by
hand, and for the invariances it must have; its weighted form (bootstrap
replicates) against the resampled sets themselves; ``score_features`` against
``ganzoo.evaluate`` on real digits.  The CLIP-336 path runs offline on a
randomly initialised ViT-L/14-336 visual tower saved in float16 (OpenAI's own
weights are float16) with the official key layout: the numbers are meaningless,
the path is real.  Its preprocessing is checked step by step against PIL.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ganzoo
from ganzoo.eval.cmmd import Kernels, cmmd, weighted_cmmd


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.delenv("GANZOO_CLIP_WEIGHTS", raising=False)


def plain_cmmd(x: np.ndarray, y: np.ndarray, sigma: float = 10.0) -> float:
    """The reference formula written out: normalise, every pair's RBF kernel, three means."""
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)

    def mean_kernel(a: np.ndarray, b: np.ndarray) -> float:
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return float(np.exp(-d2 / (2 * sigma**2)).mean())

    return 1000 * (mean_kernel(x, x) + mean_kernel(y, y) - 2 * mean_kernel(x, y))


def sets(seed: int = 0, n: int = 120, m: int = 90, d: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(m, d)) + 0.3


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a)


def test_cmmd_equals_the_formula_written_out():
    real, fake = sets()
    assert cmmd(t(real), t(fake)) == pytest.approx(plain_cmmd(real, fake), abs=1e-9)
    assert cmmd(t(real), t(fake), chunk=7) == pytest.approx(cmmd(t(real), t(fake)), abs=1e-12)


def test_a_value_by_hand_and_zero_for_the_same_set():
    # One point each, orthogonal: ||x - y||^2 = 2, so 1000 (1 + 1 - 2 exp(-2 / 200)).
    expected = 1000 * (2 - 2 * math.exp(-0.01))
    assert cmmd(torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 0.5]])) == pytest.approx(expected)
    real, _ = sets()
    assert cmmd(t(real), t(real.copy())) == pytest.approx(0.0, abs=1e-12)


def test_invariant_to_row_order_and_to_each_rows_scale():
    real, fake = sets(1)
    rng = np.random.default_rng(2)
    base = cmmd(t(real), t(fake))
    shuffled = cmmd(t(real[rng.permutation(len(real))]), t(fake[rng.permutation(len(fake))]))
    scaled = cmmd(t(real * rng.uniform(0.1, 50, (len(real), 1))), t(fake * 7.0))
    assert shuffled == pytest.approx(base, abs=1e-10)
    assert scaled == pytest.approx(base, abs=1e-10)
    assert cmmd(t(fake), t(real)) == pytest.approx(base, abs=1e-10)  # symmetric


def test_weights_are_repeated_rows_and_replicates_are_the_resampled_sets():
    real, fake = sets(3, n=40, m=30)
    rng = np.random.default_rng(4)
    ir, ig = rng.integers(0, 40, 40), rng.integers(0, 30, 30)
    direct = plain_cmmd(real[ir], fake[ig])
    kernels = Kernels(t(real), t(fake))
    assert kernels.replicate(ir, ig) == pytest.approx(direct, abs=1e-9)
    kernels.matrices = None  # the path of sets too large to keep the matrices
    assert kernels.replicate(ir, ig) == pytest.approx(direct, abs=1e-9)
    ones = torch.ones(40, dtype=torch.float64), torch.ones(30, dtype=torch.float64)
    normed = kernels.real, kernels.fake
    assert weighted_cmmd(*normed, *ones) == pytest.approx(plain_cmmd(real, fake), abs=1e-9)


@pytest.mark.parametrize(
    ("real", "fake", "message"),
    [
        (np.zeros((5, 4)), np.ones((5, 4)), "none of them all zeros"),
        (np.ones((5, 4)), np.ones((5, 3)), "differ in width"),
        (np.ones((5, 4, 1)), np.ones((5, 4)), "2-D"),
    ],
)
def test_bad_input_is_one_line(real, fake, message):
    with pytest.raises(ganzoo.GanzooError, match=message):
        cmmd(t(real), t(fake))


def test_score_features_gives_cmmd_with_an_interval_and_its_settings():
    real, fake = sets(5, n=300, m=300)
    scores = ganzoo.score_features(real, fake, "cmmd", resamples=50)
    value = scores.metrics["cmmd"]
    assert value == pytest.approx(plain_cmmd(real, fake), abs=1e-9) and value > 0
    low, high = scores.intervals["cmmd"]
    assert 0 <= low <= value <= high
    assert scores.settings["cmmd"] == {
        "sigma": 10.0, "scale": 1000.0, "normalise": "l2",
        "estimator": "biased (V-statistic, diagonal included; google-research/cmmd)",
    }  # fmt: skip
    assert "cmmd" not in ganzoo.score_features(real, fake, "fid", intervals=False).settings


def lenet_features(images: torch.Tensor) -> torch.Tensor:
    """lenet-mnist's features, as ``ganzoo eval`` extracts them (tests/test_feature_metrics)."""
    from ganzoo_extractors.lenet import LeNetMnistExtractor

    net = LeNetMnistExtractor("lenet-mnist", ["features"])
    with torch.no_grad():
        return net(images.expand(-1, 3, -1, -1))[0]


@pytest.mark.slow
def test_score_features_and_ganzoo_evaluate_agree_on_digits():
    train = ganzoo.load_dataset("mnist5k", "train")
    keep = torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:300]
    generated, real = train.images[keep], ganzoo.load_dataset("mnist5k", "test").images
    ours = ganzoo.evaluate(generated, dataset="mnist5k", metrics="fid,cmmd")
    scores = ganzoo.score_features(lenet_features(real), lenet_features(generated), "fid,cmmd")
    assert scores.metrics["cmmd"] == pytest.approx(ours.metrics["cmmd"], rel=1e-6)
    assert scores.intervals["cmmd"] == pytest.approx(ours.intervals["cmmd"], rel=1e-6)
    low, high = ours.intervals["cmmd"]
    assert low <= ours.metrics["cmmd"] <= high
    assert ours.protocol["settings"]["cmmd"] == scores.settings["cmmd"]
    assert "cmmd" in ours.protocol["metrics"]
    plain = ganzoo.evaluate(generated[:50], dataset="mnist5k", metrics="fid", num_real=100)
    assert "cmmd" not in plain.protocol["settings"]  # other protocols keep their id


# --- the CLIP ViT-L/14-336 extractor -------------------------------------------------------


def test_preprocessing_is_the_references_step_by_step_against_pil():
    from ganzoo_extractors.clip import cmmd_preprocess
    from PIL import Image

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (3, 40, 64), dtype=np.uint8)  # landscape: cropped at the sides
    got = cmmd_preprocess(torch.from_numpy(image)[None], 336)[0]
    assert got.shape == (3, 336, 336) and got.dtype == torch.float32
    # 1. centre crop to a square of the shorter side: columns 12..51 of 64
    pil = Image.fromarray(image.transpose(1, 2, 0)).crop((12, 0, 52, 40))
    assert np.array_equal(np.asarray(pil), image.transpose(1, 2, 0)[:, 12:52])
    # 2. PIL bicubic (antialiased) to 336 x 336, uint8 as PIL returns it
    resized = np.asarray(pil.resize((336, 336), Image.BICUBIC)).astype(np.float32)
    # 3. the reference's torch bicubic resize to the same size is the identity
    again = torch.nn.functional.interpolate(
        torch.from_numpy(resized).permute(2, 0, 1)[None], size=(336, 336), mode="bicubic"
    )[0]
    assert torch.equal(again, torch.from_numpy(resized).permute(2, 0, 1))
    # 4. [0, 1], then CLIP's mean and std (CLIPImageProcessor's constants)
    mean = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
    std = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
    expected = ((resized / 255.0 - mean) / std).transpose(2, 0, 1)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-6)
    portrait = cmmd_preprocess(torch.zeros(2, 3, 90, 30, dtype=torch.uint8), 336)
    assert portrait.shape == (2, 3, 336, 336)


def _save_visual(path, *shape: int, dtype=torch.float16) -> None:
    """A random CLIP visual tower in OpenAI's key layout (``visual.*``, ``text_projection``)."""
    from torch_fidelity.feature_extractor_clip import CLIPVisual

    torch.manual_seed(0)
    net = CLIPVisual(*shape)
    state = {k: v.to(dtype) for k, v in net.state_dict().items()}
    state["text_projection"] = torch.zeros(shape[0], shape[0], dtype=dtype)
    torch.save(state, path)


@pytest.fixture(scope="module")
def random_vit_l_14_336(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip336") / "vit-l-14-336.pt"
    _save_visual(path, 768, 336, 24, 1024, 14)  # ViT-L/14-336px: ~304M parameters, ~0.6 GB
    return path


@pytest.mark.slow
def test_clip_336_scores_cmmd_from_a_float16_state_dict(random_vit_l_14_336, tmp_path):
    """The whole path: registration, resolver (explicit file), the 336 extractor, CMMD."""
    images = ganzoo.load_dataset("mnist5k", "train").images[:6]
    reference = tmp_path / "ref.npz"
    np.savez(reference, images=images[3:].numpy())
    result = ganzoo.evaluate(
        images[:3], dataset=f"npz:{reference}", extractor="clip-vit-l-14-336",
        extractor_weights=str(random_vit_l_14_336), metrics="cmmd",
    )  # fmt: skip
    assert np.isfinite(result.metrics["cmmd"]) and result.metrics["cmmd"] >= 0
    extractor = result.protocol["extractor"]
    assert extractor["name"] == "clip-vit-l-14-336" and extractor["layers"] == {"cmmd": "clip"}
    assert result.protocol["settings"]["cmmd"]["sigma"] == 10.0


@pytest.mark.slow
def test_vit_b_32_weights_are_refused_by_clip_336(tmp_path):
    path = tmp_path / "vit-b-32.pt"
    _save_visual(path, 512, 224, 12, 768, 32, dtype=torch.float32)
    images = ganzoo.load_dataset("mnist5k", "test").images[:10]
    with pytest.raises(ganzoo.GanzooError, match="needs ViT-L/14-336px weights.*patch 32"):
        ganzoo.evaluate(
            images, extractor="clip-vit-l-14-336", extractor_weights=str(path), metrics="cmmd",
            dataset="mnist5k", num_real=10,
        )  # fmt: skip


def test_clip_336_without_weights_is_one_line_listing_every_way():
    images = ganzoo.load_dataset("mnist5k", "test").images[:10]
    with pytest.raises(
        ganzoo.GanzooError,
        match="no weights for clip-vit-l-14-336.*--extractor-weights.*GANZOO_CLIP_WEIGHTS"
        ".*ViT-L-14-336px.pt.*network access",
    ):
        ganzoo.evaluate(images, extractor="clip-vit-l-14-336", metrics="cmmd")
