"""One rule for picking a checkpoint, the same in train (resume), sample, eval and sweeps.

The newest readable checkpoint is used with a warning naming each damaged one
passed over; an explicitly requested damaged checkpoint is an error; a sweep
skips and reports damaged ones; when every checkpoint is damaged, resume
refuses and nothing is deleted.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganzoo.cli import cli

# The plumbing model (conftest): which model made the checkpoints does not matter here.
TRAIN = ["train", "--model", "plumbing-tiny", "--batch-size", "16", "--checkpoint-every", "2",
         "--sample-every", "2", "--keep", "0", "-q"]  # fmt: skip
EVAL = ["--metrics", "fid", "--num-samples", "60", "--num-real", "60"]


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def trained(tmp_path_factory, plumbing_model) -> Path:  # registered for the whole module
    run = tmp_path_factory.mktemp("choice") / "run"
    result = invoke(*TRAIN, "--steps", "4", "--out", run)
    assert result.exit_code == 0, result.output
    return run


@pytest.fixture
def run(trained, tmp_path) -> Path:
    """A copy whose newest checkpoint (step 4) is truncated."""
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    newest = copy / "checkpoints" / "step-00000004.pt"
    newest.write_bytes(newest.read_bytes()[:300])
    return copy


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("ganzoo: warning:")]


def test_sample_uses_the_latest_readable_checkpoint_and_names_the_skipped_one(run, tmp_path):
    result = invoke("sample", run, "--n", "4", "--out", tmp_path / "g.png")
    assert result.exit_code == 0, result.output
    assert "from step 2" in result.stdout
    (warning,) = warnings_in(result.stderr)
    assert "step-00000004.pt' is damaged" in warning and "using step-00000002.pt" in warning


def test_eval_falls_back_the_same_way(run):
    result = invoke("eval", run, *EVAL, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["protocol"]["checkpoint"]["step"] == 2
    (warning,) = warnings_in(result.stderr)
    assert "step-00000004.pt' is damaged" in warning


def test_an_explicitly_requested_damaged_checkpoint_is_an_error(run, tmp_path):
    before = snapshot(run)
    for args in (
        ("eval", run, "--checkpoint", "4", *EVAL),
        ("sample", run, "--checkpoint", "4", "--out", tmp_path / "g.png"),
        ("eval", run / "checkpoints" / "step-00000004.pt", *EVAL),
    ):
        result = invoke(*args)
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        assert "step-00000004.pt' is damaged (truncated, or not a checkpoint file)" in lines[0]
        assert "weights_only" not in lines[0]  # ganzoo's words, not torch's advice
    assert snapshot(run) == before
    assert not (tmp_path / "g.png").exists()


def test_a_sweep_skips_and_reports_damaged_checkpoints(run):
    result = invoke("eval", run, *EVAL, "--all-checkpoints", "--json")
    assert result.exit_code == 0, result.output
    steps = [r["protocol"]["checkpoint"]["step"] for r in json.loads(result.stdout)]
    assert steps == [0, 2]
    warnings = warnings_in(result.stderr)
    assert any("step-00000004.pt' is damaged" in w for w in warnings)
    assert any("1 of 3 checkpoints skipped as damaged: step-00000004.pt" in w for w in warnings)


def test_resume_continues_from_the_latest_readable_and_keeps_the_damaged_file(run):
    damaged = (run / "checkpoints" / "step-00000004.pt").read_bytes()
    result = invoke(*TRAIN, "--steps", "6", "--out", run)
    assert result.exit_code == 0, result.output
    warnings = warnings_in(result.stderr)
    assert "using step-00000002.pt instead" in warnings[0]
    assert warnings[1].endswith("kept the damaged checkpoint as step-00000004.pt.damaged")
    kept = run / "checkpoints" / "step-00000004.pt.damaged"
    assert kept.read_bytes() == damaged  # moved aside, never overwritten or pruned
    from ganzoo.train.checkpoint import load_checkpoint

    assert load_checkpoint(run / "checkpoints" / "step-00000004.pt")["step"] == 4  # retrained
    assert load_checkpoint(run / "checkpoints" / "step-00000006.pt")["step"] == 6


def test_when_every_checkpoint_is_damaged_resume_refuses_and_deletes_nothing(run, tmp_path):
    for path in (run / "checkpoints").glob("step-*.pt"):
        path.write_bytes(b"PK\x03\x04 damaged")
    before = snapshot(run)
    result = invoke(*TRAIN, "--steps", "6", "--out", run)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: every checkpoint in"), result.stderr
    assert "To start over, move" in lines[0]
    assert snapshot(run) == before
    sampled = invoke("sample", run, "--out", tmp_path / "g.png")
    assert sampled.exit_code == 1 and "every checkpoint in" in sampled.stderr


def test_a_leaderboard_sweep_skips_and_reports_damaged_checkpoints(run, tmp_path):
    out = tmp_path / "boards"
    result = invoke("eval", "leaderboard", run, "--all-checkpoints", *EVAL, "--out", out)
    assert result.exit_code == 0, result.output
    warnings = warnings_in(result.stderr)
    assert any("step-00000004.pt' is damaged" in w for w in warnings), result.stderr
    assert any("1 damaged checkpoint(s) skipped" in w for w in warnings), result.stderr
    (board,) = out.glob("*.json")
    assert sorted(row["step"] for row in json.loads(board.read_text())["rows"]) == [0, 2]
