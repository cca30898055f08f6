"""``ganzoo eval --metrics memorization``: training images are flagged, held-out ones are not.

Real mnist5k digits stand in for a model's samples: 300 training digits with
slight noise are what a memorizing model emits, 300 test digits what a model
that generalises perfectly would (they are as far from the training set as
any held-out image).  The evaluation compares both with the training split and
the test split as held-out baseline, in lenet-mnist's feature space and in
pixels, and the numbers reach the result file, the summary and the board.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

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


def test_held_out_images_are_not_flagged(tmp_path):
    """Half of the test digits as samples, the other half as the held-out baseline (disjoint):
    both are draws of unseen digits, so the copy rate is near its 5% definition and C_T near 0."""
    test = digits("test", 500)
    np.savez(tmp_path / "heldout.npz", images=test[:250].numpy())
    result = ganzoo.evaluate(
        test[250:], dataset=f"npz:{tmp_path / 'heldout.npz'}", metrics="memorization",
        train_dataset="mnist5k",
    )  # fmt: skip
    m = result.metrics
    assert m["copy_rate"] < 0.12 and m["copy_rate_pixels"] < 0.12, m
    assert abs(m["data_copying_ct"]) < 2 and abs(m["data_copying_ct_pixels"]) < 2, m
    low, high = result.intervals["copy_rate"]
    assert low <= 0.05 <= high


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


def test_the_gallery_shows_each_nearest_pair_generated_above_training(copied):
    """The PNG kept in the result: column i is pair i, the generated image above the training
    image it is nearest to, each enlarged 2x."""
    found = copied.extra["memorization"]
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(found["gallery_png"]))))
    assert image.shape == (2 * 56, 8 * 56 + 7 * 4)
    generated = digits("train", 300, noise=0.03)
    training = ganzoo.load_dataset("mnist5k", "train").images
    for i, (g, t, _) in enumerate(found["nearest"]):
        column = image[:, i * 60 : i * 60 + 56]
        assert np.array_equal(column[:56:2, ::2], generated[g, 0].numpy())
        assert np.array_equal(column[56::2, ::2], training[t, 0].numpy())


def test_the_board_and_page_show_copy_rate_and_gallery_and_a_bad_gallery_costs_only_the_picture(
    tmp_path,
):
    out = tmp_path / "boards"
    args = ["eval", "leaderboard", "dcgan-mnist5k", "--metrics", "fid,memorization"]
    result = CliRunner().invoke(cli, [*args, "--num-samples", "200", "--out", str(out)])
    assert result.exit_code == 0, result.output
    board = json.loads((out / "mnist5k-lenet-mnist.json").read_text())
    (row,) = board["rows"]
    assert row["copy_rate"] == 0 and row["copy_rate_low"] <= row["copy_rate_high"]
    assert len(row["copy_distances"].split()) == 8 and row["copy_threshold"] > 0
    assert Image.open(out / row["copies_grid"]).size == (8 * 56 + 7 * 4, 2 * 56)
    (floor,) = board["floors"].values()
    assert floor["row"]["copy_rate"] is None  # real training images: a copy rate of 1 means nothing
    page = CliRunner().invoke(cli, ["leaderboard", "--dir", str(out), "--format", "html"])
    assert page.output.count('<figure class="copies">') == 1
    assert "a copy is nearer than" in page.output

    (result_file,) = (out / "pretrained").glob("*/eval/*.json")
    data = json.loads(result_file.read_text())
    data["memorization"]["gallery_png"] = base64.b64encode(b"<script>").decode()
    result_file.write_text(json.dumps(data))
    rebuilt = CliRunner().invoke(cli, [*args, "--num-samples", "200", "--out", str(out)])
    assert rebuilt.exit_code == 0 and "memorization gallery" in rebuilt.stderr
    (row,) = json.loads((out / "mnist5k-lenet-mnist.json").read_text())["rows"]
    assert row["copy_rate"] == 0 and "copies_grid" not in row
