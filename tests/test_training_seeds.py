"""Training-seed spread: runs that differ only in their seed are one entry (mean ± std, n, best)."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from ganzoo import leaderboard as lb
from ganzoo.cli import cli
from ganzoo.leaderboard.seeds import recipe


def test_a_recipe_ignores_the_seed_and_how_verbosely_a_run_ran():
    info = {"model": "dcgan", "hyperparameters": {"lr": 2e-4}, "dataset": "mnist5k"}
    info |= {"split": "train", "seed": 0, "options": {"steps": 2000, "quiet": True, "seed": 0}}
    other_seed = {**info, "seed": 3, "options": {**info["options"], "seed": 3, "quiet": False}}
    assert recipe(info) == recipe(other_seed)
    for changed in (
        {**info, "hyperparameters": {"lr": 1e-4}},
        {**info, "options": {**info["options"], "steps": 4000}},
        {**info, "dataset": "digits"},
        {**info, "model": "vae"},
    ):
        assert recipe(changed) != recipe(info)
    assert recipe({"seed": 1}) is None


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A real zoo: gan trained with two seeds, vae with one, a few steps each, scored on lenet."""
    root = tmp_path_factory.mktemp("seeds")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        args = ["zoo", "--models", "gan", "--steps", "2", "--num-samples", "40", "-q"]
        first = CliRunner().invoke(cli, [*args, "--train-seeds", "2", "--out-runs", "z"])
        assert first.exit_code == 0, first.output
        vae = ["zoo", "--models", "vae", "--steps", "2", "--num-samples", "40", "-q"]
        second = CliRunner().invoke(cli, [*vae, "--out-runs", "z"])
        assert second.exit_code == 0, second.output
    finally:
        os.chdir(cwd)
    return root / "z", first.output


def test_zoo_train_seeds_trains_each_seed_and_the_board_pools_them(seeded):
    runs, output = seeded
    assert sorted(p.name for p in runs.iterdir() if (p / "run.json").is_file()) == [
        "gan-seed0", "gan-seed1", "vae",
    ]  # fmt: skip
    seeds = [json.loads((runs / f"gan-seed{s}" / "run.json").read_text())["seed"] for s in (0, 1)]
    assert seeds == [0, 1]
    board = lb.load(runs / "leaderboards", "mnist5k", "lenet-mnist")
    (pid,) = board.protocols
    per_run = board.table(pid, view="runs")
    gan = per_run[per_run["model"] == "gan"]
    assert len(gan) == 2 and set(gan["train_seed"]) == {0, 1}
    pooled = board.table(pid)
    entry = pooled[pooled["model"] == "gan"].iloc[0]
    assert len(pooled[pooled["model"] == "gan"]) == 1 and entry["train_seeds"] == 2
    fids = sorted(gan["fid"])
    assert entry["fid"] == pytest.approx(sum(fids) / 2)
    assert entry["fid_std"] == pytest.approx(abs(fids[1] - fids[0]) / 2**0.5)
    best = gan.sort_values("fid").iloc[0]
    assert entry["best_seed"].startswith(f"seed {int(best['train_seed'])}")
    assert entry["run"] == best["run"]  # the entry's grid and run are the best seed's
    assert pd_missing(entry["fid_low"]) and pd_missing(entry["group"])  # one run's interval
    vae = pooled[pooled["model"] == "vae"].iloc[0]
    assert pd_missing(vae["train_seeds"])  # a single run is shown as it is


def pd_missing(value) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def test_leaderboard_shows_the_spread_and_runs_one_by_one(seeded):
    runs, _ = seeded
    folder = str(runs / "leaderboards")
    pooled = CliRunner().invoke(cli, ["leaderboard", "--dir", folder, "--wide"])
    assert pooled.exit_code == 0, pooled.output
    assert "2 training seeds (best: seed" in pooled.output and "± over" in pooled.output
    assert "differ only in their training seed are one entry" in pooled.output
    one_by_one = CliRunner().invoke(cli, ["leaderboard", "--dir", folder, "--runs", "--wide"])
    assert one_by_one.exit_code == 0, one_by_one.output
    assert one_by_one.output.count("gan-seed") >= 2 and "2 training seeds" not in one_by_one.output
    both = CliRunner().invoke(cli, ["leaderboard", "--dir", folder, "--runs", "--best"])
    assert both.exit_code != 0 and "choose different rows" in both.output
    assert "Traceback" not in both.output
