"""A user's zoo board ranks the shipped models beside the user's runs, marked as such.

The zoo writes under its runs folder; the pretrained models whose cards hold a
result under the board's protocol join it from those cards (nothing scored),
each row saying ``shipped`` where the user's say ``run``.
"""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from ganzoo_pretrained import MODELS
from ganzoo_pretrained.shipped import SHIPPED

from ganzoo import leaderboard as lb
from ganzoo.cli import cli
from ganzoo.eval.protocol import protocol_id

FID = "frechet_inception_distance"


def card_fids(name: str) -> set[float]:
    card = json.loads((MODELS / name / "eval.json").read_text())
    return {r["metrics"][FID] for r in card if r["protocol"]["extractor"]["name"] == "lenet-mnist"}


@pytest.mark.slow
def test_the_zoo_ranks_the_shipped_models_beside_the_users_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["zoo", "--models", "vae", "--steps", "1", "-q", "--out-runs", "zruns"]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 0, done.output
    assert f"rows from `shipped` are {len(SHIPPED)} pretrained models" in done.output
    board = lb.load("zruns/leaderboards", "mnist5k", "lenet-mnist")
    mine = [r for r in board.rows if r["source"] == "run"]
    shipped = [r for r in board.rows if r["source"] == "shipped"]
    assert sorted((r["model"], r["step"]) for r in mine) == [("vae", 0), ("vae", 1)]
    # One row per card result (ddpm's card has two sampler settings), in the runs' table,
    # with the card's numbers.
    assert {r["protocol"] for r in shipped} == {r["protocol"] for r in mine}
    for name in SHIPPED:
        rows = [r for r in shipped if r["run"].startswith(f"pretrained/{name}-")]
        assert rows and sorted(r["fid"] for r in rows) == pytest.approx(sorted(card_fids(name)))
    lines = [line.split() for line in done.output.splitlines()]
    assert any(line[2:4] == ["vae", "run"] for line in lines if len(line) > 4)
    assert any(line[2:4] == ["vae", "shipped"] for line in lines if len(line) > 4)
    assert not os.path.exists("leaderboards"), "the checkout's boards are left alone"


def test_a_card_under_another_protocol_or_damaged_adds_nothing(tmp_path):
    """Only comparable, well-formed card results become rows."""
    from ganzoo.leaderboard.reference import _fits, add_pretrained

    card = json.loads((MODELS / "vae-mnist5k" / "eval.json").read_text())
    ids = {protocol_id(r["protocol"]) for r in card}
    assert all(_fits(r, ids) for r in card)
    assert not any(_fits(r, {"0123456789"}) for r in card)
    assert not _fits({**card[0], "metrics": {FID: "low"}}, ids)
    assert not _fits([], ids)
    assert add_pretrained(tmp_path, "mnist5k", "lenet-mnist") == []  # no board yet
