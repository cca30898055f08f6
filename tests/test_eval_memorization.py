"""``ganzoo eval --metrics memorization``: training images are flagged, held-out ones are not.

Real mnist5k digits stand in for a model's samples: 300 training digits with
slight noise are what a memorizing model emits, 300 test digits what a model
that generalises perfectly would (they are as far from the training set as
any held-out image).  The evaluation compares both with the training split and
the test split as held-out baseline, in lenet-mnist's feature space and in
pixels, and the numbers reach the result file, the summary and the board.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")


def digits(split: str, n: int, noise: float = 0.0, seed: int = 0) -> torch.Tensor:
    images = ganzoo.load_dataset("mnist5k", split).images
    g = torch.Generator().manual_seed(seed)
    chosen = images[torch.randperm(len(images), generator=g)[:n]].float()
    noisy = chosen + noise * 255 * torch.randn(chosen.shape, generator=g)
    return noisy.round().clamp(0, 255).to(torch.uint8)


@pytest.fixture(scope="module")
def copied() -> ganzoo.eval.protocol.EvalResult:
    """300 training digits with 3% noise: a model that returns its training data."""
    return ganzoo.evaluate(
        digits("train", 300, noise=0.03), metrics="memorization", train_dataset="mnist5k"
    )


def test_training_images_with_slight_noise_are_flagged_as_copies(copied):
    m, intervals = copied.metrics, copied.intervals
    assert m["copy_rate"] > 0.9 and m["copy_rate_pixels"] > 0.9, m
    assert m["data_copying_ct"] < -5 and m["data_copying_ct_pixels"] < -5, m
    low, high = intervals["copy_rate"]
    assert low <= m["copy_rate"] <= high
    training = copied.protocol["training"]
    assert (training["dataset"], training["split"], training["num_images"]) == (
        "mnist5k",
        "train",
        4500,
    )
    assert training["memorization"]["quantile"] == 0.05
    assert training["memorization"]["cells"] == 5  # 300 generated images: 300 // 60
    nearest = copied.extra["memorization"]["nearest_pixels"]
    assert len(nearest) == 8 and [d for *_, d in nearest] == sorted(d for *_, d in nearest)


def test_held_out_images_are_not_flagged():
    """Test digits as samples: their nearest-training distances are the baseline's own, so the
    copy rate is near its 5% definition and C_T near 0."""
    result = ganzoo.evaluate(digits("test", 300), metrics="memorization", train_dataset="mnist5k")
    m = result.metrics
    assert m["copy_rate"] < 0.15 and m["copy_rate_pixels"] < 0.15, m
    assert abs(m["data_copying_ct"]) < 3 and abs(m["data_copying_ct_pixels"]) < 3, m


def test_the_command_line_prints_the_copy_rate_and_writes_nothing_for_an_npz(tmp_path, copied):
    path = tmp_path / "copies.npz"
    np.savez(path, images=digits("train", 300, noise=0.03).numpy())
    args = ["eval", str(path), "--metrics", "memorization", "--train-dataset", "mnist5k"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "copy rate " in result.output and "C_T (Meehan)" in result.output
    as_json = CliRunner().invoke(cli, [*args, "--json"])
    data = json.loads(as_json.output)
    assert data["metrics"]["copy_rate"] == pytest.approx(copied.metrics["copy_rate"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copies.npz"]


BAD = [
    (["--metrics", "memorization"], "needs the images"),
    (["--metrics", "memorization", "--train-dataset", "mnist5k", "--split", "train"], "overlaps"),
]


@pytest.mark.parametrize("args, message", BAD, ids=["no-training-images", "reference-overlaps"])
def test_memorization_without_held_out_or_training_images_is_one_line(tmp_path, args, message):
    path = tmp_path / "samples.npz"
    np.savez(path, images=digits("test", 40).numpy())
    result = CliRunner().invoke(cli, ["eval", str(path), *args])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1
