"""``--nproc N`` hands its workers the command line as typed, passed explicitly, not via a global.

The launcher itself is replaced here (the real one, through torchrun, is
exercised by tests/test_distributed_*.py): these check which arguments the
workers would get, without starting them.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ganzoo.cli import cli
from ganzoo.commands import launch


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[str]]]:
    started: list[tuple[int, list[str]]] = []
    monkeypatch.setattr(launch, "_launch", lambda nproc, argv: started.append((nproc, argv)))
    for name in ("RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    return started


def test_train_workers_get_the_command_line_and_the_shared_run_directory(
    launches, tmp_path, monkeypatch
):
    """Without --out every worker must still name one folder: train adds it to their argv."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("ganzoo.errors._debug", False)  # --traceback below sets it for the process
    args = ["--traceback", "train", "--model", "gan", "--steps", "1", "--nproc", "2", "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    ((nproc, argv),) = launches
    assert nproc == 2 and argv[: len(args)] == args
    assert argv[len(args)] == "--out" and argv[len(args) + 1].startswith("runs/gan-mnist5k-")
    assert len(argv) == len(args) + 2


def test_each_invocation_hands_on_its_own_command_line(launches, tmp_path):
    """Two commands in one process: the second's workers get the second command, nothing added."""
    run = str(tmp_path / "run")
    first = ["train", "--model", "gan", "--steps", "1", "--nproc", "2", "--out", run, "-q"]
    second = ["eval", run, "--metrics", "fid", "--nproc", "2"]
    for args in (first, second):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
    assert launches == [(2, first), (2, second)]


def test_a_command_outside_the_group_refuses_to_launch_without_its_command_line(launches):
    from ganzoo.commands.train import train_cmd

    result = CliRunner().invoke(train_cmd, ["--model", "gan", "--nproc", "2", "--out", "x"])
    assert result.exit_code == 1 and launches == []
    assert "run the command as `ganzoo ...`" in str(result.exception)
