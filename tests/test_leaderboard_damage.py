"""A damaged leaderboard file is never overwritten: every reader says so, and --rebuild recovers.

The board is real: a tiny trained run, scored by ``ganzoo eval leaderboard``,
copied into two runs of which one is then deleted (its rows live only on the
board, as rows of a gone run do by design).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganzoo import leaderboard as lb
from ganzoo.cli import cli

STEM = "mnist5k-lenet-mnist"
SCORE = ["--num-samples", "60"]


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory):
    """One tiny gan run with its latest checkpoint scored (its result in RUN/eval/)."""
    run = tmp_path_factory.mktemp("trained") / "gan"
    sets = ["--set", "g_hidden=[32]", "--set", "d_hidden=[32]", "--set", "latent_dim=8"]
    common = ["--steps", "4", "--checkpoint-every", "2", "--sample-every", "2", "-q"]
    runner = CliRunner()
    trained = runner.invoke(
        cli, ["train", "-m", "gan", "--out", str(run), *sets, *common, "--device", "cpu"]
    )
    assert trained.exit_code == 0, trained.output
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANZOO_OFFLINE", "1")
        first = run.parent / "first-board"
        scored = runner.invoke(cli, ["eval", "leaderboard", str(run), *SCORE, "--out", str(first)])
    assert scored.exit_code == 0, scored.output
    return run


@pytest.fixture
def board(scored_run, tmp_path, monkeypatch):
    """(runs dir, boards dir): a board of the runs ``kept`` and ``gone``, ``gone`` then deleted."""
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    runs, out = tmp_path / "runs", tmp_path / "boards"
    for name in ("kept", "gone"):
        shutil.copytree(scored_run, runs / name)
    args = ["eval", "leaderboard", "--runs", str(runs), *SCORE, "--out", str(out)]
    built = CliRunner().invoke(cli, args)
    assert built.exit_code == 0, built.output
    assert "0 checkpoint(s) to score" in built.output
    assert {r["run"] for r in lb.load(out, "mnist5k", "lenet-mnist").rows} == {
        "../runs/kept",
        "../runs/gone",
    }
    shutil.rmtree(runs / "gone")
    return runs, out


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


def truncate(path: Path) -> bytes:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return data


def recovery(out: Path) -> str:
    return f"recover with: ganzoo eval leaderboard --rebuild --runs RUNS_DIR --out {out}"


def test_eval_leaderboard_refuses_a_truncated_board_and_writes_nothing(board):
    runs, out = board
    path = out / f"{STEM}.json"
    truncate(path)
    before = snapshot(out)
    result = CliRunner().invoke(cli, ["eval", "leaderboard", str(runs / "kept"), "--out", str(out)])
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: leaderboard file {path} is damaged (not valid JSON: ")
    assert recovery(out) in line
    assert snapshot(out) == before  # no row dropped, no csv/md/html rewritten, no temp file


@pytest.mark.parametrize(
    "damage",
    [
        b"\xff\xfe not utf-8",
        b"[]",
        b'{"format": 99, "dataset": "mnist5k", "extractor": "lenet-mnist", "rows": []}',
        b'{"format": 1, "dataset": "mnist5k", "extractor": "lenet-mnist", "rows": [1]}',
        b'{"format": 1, "dataset": "cifar10", "extractor": "lenet-mnist", "rows": []}',
    ],
    ids=["bytes", "array", "format", "rows", "other-board"],
)
def test_every_reader_tells_a_damaged_board_from_a_missing_one(board, damage):
    runs, out = board
    path = out / f"{STEM}.json"
    path.write_bytes(damage)
    before = snapshot(out)
    assert lb.load(out, "cifar10", "lenet-mnist") is None  # no file: no board, no error
    for read in (
        lambda: lb.load(out, "mnist5k", "lenet-mnist"),
        lambda: lb.available(out),
        lambda: lb.update(out, "mnist5k", "lenet-mnist", [runs / "kept"]),
    ):
        with pytest.raises(lb.DamagedBoardError, match=f"leaderboard file {path} is damaged"):
            read()
    assert snapshot(out) == before


def test_show_names_the_damaged_board_and_the_recovery_command(board):
    _, out = board
    path = out / f"{STEM}.json"
    data = json.loads(path.read_text())
    truncate(path)
    shown = CliRunner().invoke(cli, ["leaderboard", "--dir", str(out)])
    assert shown.exit_code == 1
    (line,) = shown.stderr.splitlines()
    assert line.startswith(f"Error: leaderboard file {path} is damaged") and recovery(out) in line
    assert "available: none" not in shown.output
    # An intact board beside it is shown, with one warning line about the damaged one.
    data["dataset"] = "other"
    (out / "other-lenet-mnist.json").write_text(json.dumps(data))
    shown = CliRunner().invoke(cli, ["leaderboard", "--dir", str(out)])
    assert shown.exit_code == 0, shown.output
    assert "Leaderboard other-lenet-mnist" in shown.stdout
    (warning,) = shown.stderr.splitlines()
    assert warning.startswith(f"ganzoo: warning: leaderboard file {path} is damaged")


def test_rebuild_moves_the_damaged_file_aside_and_recovers_the_existing_runs(board):
    runs, out = board
    path = out / f"{STEM}.json"
    kept = [r for r in lb.load(out, "mnist5k", "lenet-mnist").rows if r["run"] == "../runs/kept"]
    truncate(path)
    damaged = path.read_bytes()
    args = ["eval", "leaderboard", "--rebuild", "--runs", str(runs), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "checkpoint(s) to score" not in result.output  # a rebuild scores nothing
    aside = out / f"{STEM}.json.damaged"
    assert aside.read_bytes() == damaged
    rows = lb.load(out, "mnist5k", "lenet-mnist").rows
    assert [r | {"rank": None} for r in rows] == [r | {"rank": None} for r in kept]
    assert kept and all((out / r["sample_grid"]).is_file() for r in rows)
    assert "../runs/gone" not in (out / f"{STEM}.csv").read_text()
    # Damaged again: the earlier copy is kept, the new one gets a timestamped name.
    truncate(path)
    again = path.read_bytes()
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert aside.read_bytes() == damaged
    (stamped,) = out.glob(f"{STEM}.json.damaged-*")
    assert stamped.read_bytes() == again and lb.load(out, "mnist5k", "lenet-mnist").rows == rows


def test_rebuild_leaves_intact_boards_and_boards_of_other_results_alone(board):
    runs, out = board
    before = snapshot(out)
    args = ["eval", "leaderboard", "--rebuild", "--runs", str(runs), "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0 and "nothing rebuilt" in result.stderr
    assert snapshot(out) == before
    truncate(out / f"{STEM}.json")
    before = snapshot(out)
    result = CliRunner().invoke(cli, [*args, "--extractor", "inception-v3-compat"])
    assert result.exit_code == 0 and "stays damaged" in result.stderr
    assert snapshot(out) == before
