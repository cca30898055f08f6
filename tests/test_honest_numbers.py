"""Numbers that mean nothing are not shown as if they did (issue 23, section 5).

KID's std over subsets when every subset is all images; Inception Score left
out of a default evaluation without a word (tests/test_eval_inception.py); EMA
weights that are still mostly the untrained ones, sampled without a hint.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli
from ganzoo.load.loaded import young_ema


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")


def test_kid_std_over_subsets_is_dropped_when_each_subset_is_every_image():
    images = ganzoo.load_dataset("mnist5k", "train").images[:100]
    whole = ganzoo.evaluate(images, dataset="mnist5k", metrics="kid", num_real=100)
    assert whole.protocol["settings"]["kid_subset_size"] == 100
    assert "kernel_inception_distance_mean" in whole.metrics
    assert "kernel_inception_distance_std" not in whole.metrics
    assert "KID std" not in whole.summary()
    parts = ganzoo.evaluate(images, dataset="mnist5k", metrics="kid", kid_subset_size=50)
    assert parts.metrics["kernel_inception_distance_std"] > 1e-6  # real subsets: a real spread


def test_a_young_ema_is_explained_with_the_share_of_untrained_weights():
    note = young_ema({"decay": 0.999, "start": 0}, 200)
    assert note.startswith("the EMA weights have averaged 200 steps at decay 0.999, so 82% of")
    assert "(untrained)" in note and "after about 2995 steps" in note and "--no-ema" in note
    assert young_ema({"decay": 0.999, "start": 0}, 3000) is None  # 5% left: fine
    assert young_ema({"decay": 0.999, "start": 0}, 0) is None  # step 0: EMA = the weights
    assert "of step 100;" in young_ema({"decay": 0.99, "start": 100}, 110)


def test_ganzoo_sample_warns_of_a_young_ema_and_not_without_it(tmp_path):
    run = tmp_path / "run"
    train = ["train", "--model", "gan", "--steps", "20", "--batch-size", "16", "--ema", "-q"]
    assert CliRunner().invoke(cli, [*train, "--out", str(run)]).exit_code == 0
    ema = CliRunner().invoke(
        cli, ["sample", str(run), "--n", "4", "--out", str(tmp_path / "a.png")]
    )
    assert ema.exit_code == 0, ema.output
    assert ema.stderr.startswith("ganzoo: warning: the EMA weights have averaged 20 steps")
    raw = CliRunner().invoke(
        cli, ["sample", str(run), "--n", "4", "--no-ema", "--out", str(tmp_path / "b.png")]
    )
    assert raw.exit_code == 0 and raw.stderr == "", raw.stderr
