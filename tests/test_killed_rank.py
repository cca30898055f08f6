"""A worker of ``ganzoo train --nproc 2`` killed outright: one line per rank, no traceback.

The killed rank says nothing (a SIGKILLed process cannot); the survivor learns
it from a collective and stops with one line ("lost contact"), or dies of the
launcher's SIGTERM; ganzoo's launcher names the rank, the signal and the
checkpoint the same command resumes from, and the same command does.  Every
launch is a subprocess with a time limit (gloo on the CPU, one thread each).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ganzoo.train.checkpoint import load_checkpoint

pytestmark = [pytest.mark.slow, pytest.mark.distributed, pytest.mark.timeout(600)]

STEPS = 400
#: A small gan (51k parameters; ~80 steps/s on 2 processes here), checkpoints every 20 steps.
COMMAND = [sys.executable, "-m", "ganzoo", "train", "--model", "gan", "--nproc", "2"]
COMMAND += ["--set", "g_hidden=[32]", "--set", "d_hidden=[32]", "--set", "latent_dim=8"]
COMMAND += ["--steps", str(STEPS), "--checkpoint-every", "20", "--log-every", "10", "--out", "K"]
TIMEOUT = 240
#: Progress lines rank 0 prints before the kill (the banner and --log-every rows).
PROGRESS = ("training gan ", "2 processes, ", "step ")


def env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def workers(launcher: int) -> dict[int, int]:
    """{rank: pid} of the launcher's child processes (their RANK from /proc/PID/environ)."""
    found = {}
    for children in Path(f"/proc/{launcher}/task").glob("*/children"):
        for pid in map(int, children.read_text().split()):
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            ranks = [v[5:] for v in environ if v.startswith(b"RANK=")]
            if ranks:
                found[int(ranks[0])] = pid
    return found


def killed_run(tmp_path: Path, rank: int) -> tuple[int, list[str]]:
    """Start COMMAND, SIGKILL ``rank`` once step 20's checkpoint exists; (status, stderr lines)."""
    proc = subprocess.Popen(
        COMMAND, cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + TIMEOUT
        while not (tmp_path / "K" / "checkpoints" / "step-00000020.pt").exists():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "no checkpoint of step 20"
            time.sleep(0.02)
        ranks = workers(proc.pid)
        assert sorted(ranks) == [0, 1], ranks
        os.kill(ranks[rank], signal.SIGKILL)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the launcher and its workers
            proc.communicate(timeout=30)
    return proc.returncode, err.splitlines()


@pytest.mark.parametrize("rank", [0, 1])
def test_a_killed_rank_is_one_line_per_rank_and_the_same_command_resumes(tmp_path, rank):
    """SIGKILL of rank 0 (the one that writes) or rank 1: exit status 137; besides rank 0's
    progress, stderr holds at most the survivor's line and the launcher's, which names the
    rank, SIGKILL and the checkpoint to resume from; the same command resumes from it."""
    status, lines = killed_run(tmp_path, rank)
    text = "\n".join(lines)
    assert status == 128 + signal.SIGKILL, text
    assert "Traceback" not in text and "[rank" not in text, text
    own = [line for line in lines if not line.startswith(PROGRESS)]
    found = re.fullmatch(
        rf"Error: rank {rank} of 2 was killed by SIGKILL; the job can be resumed from the last "
        r"checkpoint, (K/checkpoints/step-(\d+)\.pt), by running the same command",
        own[-1],
    )
    assert found, text
    survivor = "" if rank else " (rank 1)"
    lost = f"Error{survivor}: lost contact with another process of this job ("
    assert len(own) <= 2 and all(line.startswith(lost) for line in own[:-1]), text
    step = int(found.group(2))
    assert 20 <= step < STEPS and load_checkpoint(tmp_path / found.group(1))["step"] == step
    done = subprocess.run(
        COMMAND, cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    assert f"resumed from step {step}\n" in done.stderr, done.stderr
    assert load_checkpoint(tmp_path / "K" / "checkpoints" / f"step-{STEPS:08d}.pt")["step"] == STEPS
