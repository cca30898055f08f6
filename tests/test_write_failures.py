"""A full disk or a read-only folder ends a command with one line naming the file, never a
traceback, and the last checkpoint (or the board) stays intact.

The file systems are real: a small tmpfs that fills up, remounted read-only, or a
read-only bind mount over a run's ``checkpoints/`` made while it trains (root
can write through ``chmod``, not through a read-only mount).  Without the right
to mount, the tests skip and say why.  Every command is ``python -m ganzoo`` in
a subprocess, so what is asserted is exactly what a user sees on stderr.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from ganzoo.train.checkpoint import load_checkpoint

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

GANZOO = [sys.executable, "-m", "ganzoo"]
#: A gan small enough to train in a blink: checkpoints of 215 kB (step 0) and 632 kB (Adam's
#: state added), a 49 kB grid.
TINY = ["train", "--model", "gan", "--set", "g_hidden=[32]", "--set", "d_hidden=[32]"]
TINY += ["--set", "latent_dim=8", "--batch-size", "8", "--device", "cpu", "-q"]
TIMEOUT = 180


def env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def ganzoo(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*GANZOO, *args], cwd=cwd, env=env(), capture_output=True, text=True, timeout=TIMEOUT
    )


def mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here (mount {' '.join(args)}: {done.stderr.strip()})")


@contextmanager
def mounted(*args: str, at: Path) -> Iterator[Path]:
    """``mount ARGS AT`` for the duration; unmounted whatever happens."""
    at.mkdir(parents=True, exist_ok=True)
    mount(*args, str(at))
    try:
        yield at
    finally:
        subprocess.run(["umount", str(at)], check=False, capture_output=True)
        if os.path.ismount(at):
            subprocess.run(["umount", "-l", str(at)], check=False)


@pytest.fixture
def tmpfs(tmp_path) -> Iterator[Callable[[str], Path]]:
    """``tmpfs("1200k")``: a fresh tmpfs of that size under tmp_path, unmounted at the end."""
    with ExitStack() as stack:

        def make(size: str) -> Path:
            at = tmp_path / f"tmpfs-{size}"
            return stack.enter_context(mounted("-t", "tmpfs", "-o", f"size={size}", "tmpfs", at=at))

        yield make


def remount(at: Path, options: str) -> None:
    mount("-o", f"remount,{options}", str(at))


def the_error(done: subprocess.CompletedProcess) -> str:
    """The one ``Error: `` line of stderr; nothing else there (``-q``), no traceback."""
    lines = done.stderr.splitlines()
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: "), done.stderr
    return lines[0]


def temp_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------------- full disk


def test_a_full_disk_names_the_checkpoint_keeps_the_last_one_and_the_same_command_resumes(tmpfs):
    """1200 kB hold run.json, the step-0 grid and checkpoints 0 and 2, not checkpoint 4: torch.save's
    ``RuntimeError: [enforce fail at inline_container.cc]`` becomes one line naming
    step-00000004.pt and the intact step-00000002.pt; no temp file is left; with room again the
    same command resumes from step 2 and finishes."""
    disk = tmpfs("1200k")
    command = [*TINY, "--steps", "6", "--checkpoint-every", "2", "--sample-every", "1000"]
    command += ["--out", "run"]
    run = disk / "run"
    line = the_error(ganzoo(command, disk))
    assert line == (
        "Error: cannot write 'run/checkpoints/step-00000004.pt': No space left on device; the "
        "last checkpoint, 'run/checkpoints/step-00000002.pt', is intact: free some space and run "
        "the same command again to resume from it"
    )
    assert load_checkpoint(run / "checkpoints" / "step-00000002.pt")["step"] == 2
    assert temp_files(run) == []
    remount(disk, "size=4m")
    done = ganzoo(command, disk)
    assert done.returncode == 0, done.stderr
    for step in (4, 6):
        assert load_checkpoint(run / "checkpoints" / f"step-{step:08d}.pt")["step"] == step


def fill(disk: Path) -> None:
    """Take every free page of ``disk``: a filler file written until the disk is full."""
    with open(disk / "filler", "wb", buffering=0) as fh:
        for size in (1 << 16, 4096, 512, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError:
                continue


def test_metrics_jsonl_on_a_disk_that_fills_up_is_one_line(tmpfs):
    """A row of metrics.jsonl that no longer fits (the disk filled up during training, by
    another program): one line naming the file and the intact step-0 checkpoint."""
    disk = tmpfs("2m")
    command = [*TINY, "--steps", "100000", "--log-every", "1", "--checkpoint-every", "100000"]
    command += ["--sample-every", "100000", "--out", "run"]
    metrics = disk / "run" / "metrics.jsonl"
    proc = subprocess.Popen(
        [*GANZOO, *command], cwd=disk, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (metrics.exists() and metrics.stat().st_size) and proc.poll() is None:
            assert time.monotonic() < deadline, "no metrics row"
            time.sleep(0.02)
        fill(disk)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    line = the_error(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    assert line == (
        "Error: cannot write 'run/metrics.jsonl': No space left on device; the last checkpoint, "
        "'run/checkpoints/step-00000000.pt', is intact: free some space and run the same "
        "command again to resume from it"
    )
    assert temp_files(disk) == []


# ------------------------------------------------------------------------ read-only


def test_a_read_only_run_folder_is_one_line_naming_metrics_jsonl(tmpfs):
    """A finished run's folder made read-only, then continued (--steps 4 -> 6): one line naming
    metrics.jsonl and the intact step-4 checkpoint; writable again, the command continues."""
    disk = tmpfs("4m")
    common = [*TINY, "--checkpoint-every", "2", "--out", "run"]
    assert ganzoo([*common, "--steps", "4"], disk).returncode == 0
    remount(disk, "ro")
    line = the_error(ganzoo([*common, "--steps", "6"], disk))
    assert line == (
        "Error: cannot write 'run/metrics.jsonl': Read-only file system; the last checkpoint, "
        "'run/checkpoints/step-00000004.pt', is intact: make 'run' writable and run the same "
        "command again to resume from it"
    )
    remount(disk, "rw")
    done = ganzoo([*common, "--steps", "6"], disk)
    assert done.returncode == 0, done.stderr
    assert load_checkpoint(disk / "run" / "checkpoints" / "step-00000006.pt")["step"] == 6


def test_checkpoints_folder_made_read_only_while_training_is_one_line(tmp_path):
    """``checkpoints/`` becomes read-only (a bind mount) after step 0's checkpoint: the next
    one is refused by the file system, and the error names it and the intact step 0."""
    command = [*TINY, "--steps", "100000", "--checkpoint-every", "300"]
    command += ["--sample-every", "100000", "--out", "run"]
    checkpoints = tmp_path / "run" / "checkpoints"
    proc = subprocess.Popen(
        [*GANZOO, *command], cwd=tmp_path, env=env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (checkpoints / "step-00000000.pt").exists() and proc.poll() is None:
            assert time.monotonic() < deadline, "no step-0 checkpoint"
            time.sleep(0.01)
        with mounted("--bind", str(checkpoints), at=checkpoints):
            remount(checkpoints, "bind,ro")
            out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    line = the_error(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    assert line == (
        "Error: cannot write 'run/checkpoints/step-00000300.pt': Read-only file system; the last "
        "checkpoint, 'run/checkpoints/step-00000000.pt', is intact: make 'run/checkpoints' "
        "writable and run the same command again to resume from it"
    )
    assert sorted(p.name for p in checkpoints.iterdir()) == ["step-00000000.pt"]


# ------------------------------------------------------------------------ the board


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> Path:
    """A tiny run with its last checkpoint scored (RUN/eval/), and a board of it in boards/."""
    base = tmp_path_factory.mktemp("board")
    steps = ["--steps", "2", "--checkpoint-every", "2", "--sample-every", "2", "--out", "run"]
    trained = ganzoo([*TINY, *steps], base)
    assert trained.returncode == 0, trained.stderr
    score = ["eval", "leaderboard", "run", "--num-samples", "60", "--out", "boards"]
    done = subprocess.run(
        [*GANZOO, *score], cwd=base, env={**env(), "GANZOO_OFFLINE": "1"},
        capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_a_read_only_board_folder_is_read_but_not_written(scored, tmpfs, monkeypatch):
    """A board folder on a read-only file system: ``ganzoo leaderboard`` shows it (it only
    reads); ``ganzoo eval leaderboard`` into it stops at the lock with one line, and the
    board files are as they were."""
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    disk = tmpfs("4m")
    board = disk / "boards"
    shutil.copytree(scored / "boards", board)
    before = {p.name: p.read_bytes() for p in board.iterdir() if p.is_file()}
    remount(disk, "ro")
    shown = ganzoo(["leaderboard", "--dir", str(board)], scored)
    assert shown.returncode == 0 and "run" in shown.stdout, shown.stderr
    score = ["eval", "leaderboard", "run", "--num-samples", "60", "--out", str(board)]
    done = ganzoo(score, scored)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines() == [
        "0 checkpoint(s) to score, the rest already scored under this protocol",
        f"Error: cannot write '{board}/.mnist5k-lenet-mnist.lock': Read-only file system; no "
        f"leaderboard file there is half-written; make '{board}' writable and run the same "
        "command again, or choose another --out",
    ]
    assert {p.name: p.read_bytes() for p in board.iterdir() if p.is_file()} == before
