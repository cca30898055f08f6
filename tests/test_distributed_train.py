"""The Trainer on several CPU processes (torch.distributed, gloo): exact gradient averaging,
ranks that stay identical, crash and SIGTERM resume, two "nodes", and a refused batch size.

Every run is a subprocess with a hard timeout: torchrun (``python -m
torch.distributed.run``, rendezvous on a free port), ganzoo's own ``--nproc``,
or ``tests/dist_worker.py`` for what the CLI cannot do (swap the loss noise,
save what every rank holds).  One thread per process (``OMP_NUM_THREADS=1``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from ganzoo.train.checkpoint import load_checkpoint

pytestmark = [pytest.mark.slow, pytest.mark.distributed, pytest.mark.timeout(1200)]

WORKER = Path(__file__).with_name("dist_worker.py")
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]
GANZOO = [sys.executable, "-m", "ganzoo"]
#: Seconds any one launch may take (5-20 s here, unloaded) before the test fails.
TIMEOUT = 300

#: The run of tests c, d and e: gan, 60 steps, checkpoints every 20 (all kept), with EMA, so the
#: final checkpoint holds model, both Adam states, the EMA shadow and both ranks' RNG.
STEPS = 60
GAN_RUN = ["train", "--model", "gan", "--steps", str(STEPS), "--keep", "0", "--ema"]
PERIODIC = ["--checkpoint-every", "20", "--log-every", "10"]


def env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def run(cmd: list[str], cwd: Path, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """``cmd`` to completion (stdout and stderr together in ``.stdout``); a hang fails the test."""
    return subprocess.run(
        cmd, cwd=cwd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=timeout,
    )  # fmt: skip


def checked(cmd: list[str], cwd: Path, timeout: float = TIMEOUT) -> str:
    done = run(cmd, cwd, timeout)
    assert done.returncode == 0, f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}"
    return done.stdout


@pytest.fixture
def started() -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts commands in their own process group; whatever still runs at the end is killed."""
    procs: list[subprocess.Popen] = []

    def start(cmd: list[str], cwd: Path) -> subprocess.Popen:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the launcher and its workers
            proc.communicate(timeout=30)


def wait_until(condition: Callable[[], bool], proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"exited ({proc.returncode}) before {what}:\n{proc.stdout.read()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {TIMEOUT} s")
        time.sleep(0.02)


def finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=TIMEOUT)
    return out


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def checkpoint(run_dir: Path, step: int) -> Path:
    return run_dir / "checkpoints" / f"step-{step:08d}.pt"


def steps_saved(run_dir: Path) -> list[int]:
    return sorted(int(p.stem.split("-")[1]) for p in (run_dir / "checkpoints").glob("step-*.pt"))


def assert_same(a, b, path: str = "") -> None:
    """Nested dicts/lists/tuples equal: tensors bitwise (``torch.equal``), other values by ==."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: keys differ"
        for key in a:
            assert_same(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{path}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), f"{path}: not a tensor on one side"
        same = a.dtype == b.dtype and torch.equal(a, b)
        assert same, f"{path}: tensors differ"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


# --------------------------------------------------------- a. exact gradient averaging


def test_two_processes_with_half_batches_compute_the_full_batch_step(tmp_path):
    """2 processes with 32 images each = 1 process with 64, for every parameter of ``gan``.

    The worker gives both the same loss noise (call k draws 2n rows from seed k; rank r keeps
    its n), so only the summation order of the gradients differs.  3 steps each:

    - with the model's Adam (lr 2e-4), whose first update is about lr * sign(g), the
      largest difference measured is 4.1e-7 (0.2% of lr; ~5% of the 2.9M weights differ in the
      last bits, no sign flip).  Asserted: atol lr/20 = 1e-5, which a flipped sign (2 lr) or
      an unaveraged gradient would exceed;
    - with SGD (lr 0.1, set by overriding ``configure_optimizers``; the update is lr * g, so
      a gradient off by any factor shows, which Adam's scale invariance would hide), the
      largest difference is 7.5e-9 (one float32 ulp of a weight near 0.05), against updates up
      to 0.033.  Asserted: atol 1e-7.

    Both ranks end bitwise equal (torch.equal).
    """
    args = ["fixed-noise-step", "--steps", "3", "--optimizer", "adam,sgd"]
    one, two = tmp_path / "one", tmp_path / "two"
    checked([sys.executable, str(WORKER), *args[:1], str(one), *args[1:]], tmp_path)
    torchrun = [*TORCHRUN, "--standalone", "--nproc-per-node", "2", str(WORKER)]
    checked([*torchrun, *args[:1], str(two), *args[1:]], tmp_path)
    full = torch.load(f"{one}.rank0.pt")
    ranks = [torch.load(f"{two}.rank{r}.pt") for r in (0, 1)]
    assert full["world"]["size"] == 1 and [r["world"] for r in ranks] == [
        {"rank": 0, "size": 2},
        {"rank": 1, "size": 2},
    ]
    assert_same(ranks[0], {**ranks[1], "world": ranks[0]["world"]})
    init = full["init"]
    assert_same(init, ranks[0]["init"])
    for optimizer, atol in (("adam", 2e-4 / 20), ("sgd", 1e-7)):
        ours, theirs = full[optimizer], ranks[0][optimizer]
        assert ours.keys() == init.keys() and len(init) == 16  # 4 Linear layers in G, 4 in D
        for name in init:
            assert not torch.equal(ours[name], init[name]), f"{name} never trained"
            diff = (ours[name] - theirs[name]).abs().max().item()
            assert diff <= atol, f"{optimizer}: {name} differs by {diff:.3g} > {atol:.3g}"


# ------------------------------------------------- b. ranks identical, losses tracking


#: |difference| of a loss's mean over the second half of the run, 1 vs 2 processes.  Measured
#: (dcgan 30 steps, wgan-gp 10): dcgan D/loss 0.011, G/loss 0.0007; wgan-gp D/loss 0.016,
#: G/loss 0.033.  1-process runs with other seeds (data order and noise) differ from seed 0 by
#: up to 0.039 (5 seeds), so the difference is that of a different noise draw.  0.1 is ~3x the
#: largest measured difference, and less than the 0.44 of a loss summed instead of averaged
#: over the ranks.
LOSS_TOLERANCE = 0.1


def test_ranks_stay_identical_and_losses_track_one_process(tmp_path):
    """``dcgan`` (batch norm in G and D) 30 steps and ``wgan-gp`` (gradient penalty, 5 critic
    steps per G step) 10 steps, with EMA, on 2 processes: every parameter, buffer (BatchNorm
    running statistics, averaged over the ranks at the final checkpoint) and EMA tensor is
    bitwise equal on both ranks; the mean of each logged loss over the second half of the run
    is within LOSS_TOLERANCE of the same run on 1 process."""
    models = {"dcgan": 30, "wgan-gp": 10}
    args = [f"--model={m}:{s}" for m, s in models.items()] + ["--runs", "--ema"]
    one, two = tmp_path / "one", tmp_path / "two"
    checked([sys.executable, str(WORKER), "train", str(one), *args], tmp_path)
    torchrun = [*TORCHRUN, "--standalone", "--nproc-per-node", "2", str(WORKER)]
    checked([*torchrun, "train", str(two), *args], tmp_path)
    ranks = [torch.load(two / f"train.rank{r}.pt") for r in (0, 1)]
    for model in models:
        held = ranks[0][model]
        assert held["params"] and held["buffers"] and held["ema"], f"{model}: nothing saved"
        assert_same(held, ranks[1][model], model)
    differences = {}
    for model, steps in models.items():
        curves = [
            [json.loads(line) for line in (d / f"{model}-run" / "metrics.jsonl").open()]
            for d in (one, two)
        ]
        assert (
            [r["step"] for r in curves[0]]
            == [r["step"] for r in curves[1]]
            == list(range(1, steps + 1))
        )
        losses = [k for k in curves[0][0] if "loss" in k]
        assert {"D/loss", "G/loss"} <= set(losses)
        for key in losses:
            means = [
                sum(r[key] for r in c if r["step"] > steps // 2) / (steps - steps // 2)
                for c in curves
            ]
            differences[f"{model} {key}"] = abs(means[0] - means[1])
    assert max(differences.values()) <= LOSS_TOLERANCE, differences


def test_buffers_agree_when_fit_returns_without_a_run_directory(tmp_path):
    """No checkpoint ever synchronised them: ``fit`` itself averages the BatchNorm statistics
    before it returns, so the model a library caller samples from is the same on every rank."""
    torchrun = [*TORCHRUN, "--standalone", "--nproc-per-node", "2", str(WORKER)]
    checked([*torchrun, "train", str(tmp_path / "out"), "--model=dcgan:5"], tmp_path)
    ranks = [torch.load(tmp_path / "out" / f"train.rank{r}.pt") for r in (0, 1)]
    assert ranks[0]["dcgan"]["buffers"]
    assert_same(ranks[0]["dcgan"], ranks[1]["dcgan"], "dcgan")


# ------------------------------------------------------ c. SIGKILL of a rank, resume


@pytest.fixture(scope="module")
def run_a(tmp_path_factory) -> Iterator[Path]:
    """The uninterrupted run, through ganzoo's own launcher (``--nproc 2``)."""
    base = tmp_path_factory.mktemp("distributed")
    checked([*GANZOO, *GAN_RUN, *PERIODIC, "--nproc", "2", "--out", "A"], base)
    assert steps_saved(base / "A") == [0, 20, 40, 60]
    yield base / "A"
    shutil.rmtree(base, ignore_errors=True)  # ~150 MB of checkpoints per run


def test_killed_rank_resumes_bitwise_to_the_uninterrupted_run(run_a, started):
    """torchrun 2 processes; once step 20's checkpoint exists (and 0.2 s more, so the kill lands
    mid-training), SIGKILL rank 0 (the one that writes).  torchrun fails; the same command
    again resumes from the last checkpoint and its final checkpoint equals run A's (--nproc 2)
    bitwise: model, both optimizers, EMA, every rank's RNG, data position."""
    base = run_a.parent
    command = [*TORCHRUN, "--standalone", "--nproc-per-node", "2", "-m", "ganzoo"]
    command += [*GAN_RUN, *PERIODIC, "--out", "B"]
    b = base / "B"
    first = started(command, base)
    wait_until(checkpoint(b, 20).exists, first, "the checkpoint of step 20")
    time.sleep(0.2)
    ranks = workers(first.pid)
    assert sorted(ranks) == [0, 1], ranks
    os.kill(ranks[0], signal.SIGKILL)
    out = finish(first)
    assert first.returncode != 0, out
    assert STEPS not in steps_saved(b), f"the run ended before the kill:\n{out}"
    resumed = checked(command, base)
    found = re.search(r"resumed from step (\d+)", resumed)
    assert found and 20 <= int(found.group(1)) < STEPS, resumed
    a, b = load_checkpoint(checkpoint(run_a, STEPS)), load_checkpoint(checkpoint(b, STEPS))
    assert len(a["rng"]["ranks"]) == 2 and a["ema"] is not None
    assert not torch.equal(a["rng"]["ranks"][0]["torch"], a["rng"]["ranks"][1]["torch"])
    assert_same(a, b)


# ---------------------------------------------------------------- d. SIGTERM, resume


@pytest.mark.parametrize("launcher", ["torchrun", "nproc"])
def test_sigterm_saves_the_current_step_and_the_rerun_continues(run_a, started, launcher):
    """SIGTERM to the launcher (torchrun, or ``ganzoo train --nproc 2``) once step 5 is logged:
    every rank stops after the same step S, a checkpoint of S is written although
    --checkpoint-every is 1000, the status is non-zero (143 from ganzoo's launcher, whatever
    torchrun's own is: 1 here); the same command continues from S to the end, bitwise equal
    to run A."""
    base = run_a.parent
    out_dir = base / f"D-{launcher}"
    args = [*GAN_RUN, "--checkpoint-every", "1000", "--log-every", "5", "--out", out_dir.name]
    if launcher == "torchrun":
        command = [*TORCHRUN, "--standalone", "--nproc-per-node", "2", "-m", "ganzoo", *args]
    else:
        command = [*GANZOO, *args, "--nproc", "2"]
    first = started(command, base)
    metrics = out_dir / "metrics.jsonl"
    wait_until(lambda: metrics.exists() and metrics.read_text().strip(), first, "step 5's log")
    first.send_signal(signal.SIGTERM)  # the launcher only, as a cluster's preemption does
    out = finish(first)
    if launcher == "nproc":
        assert first.returncode == 143, out  # ganzoo's launcher: 128 + SIGTERM
    else:
        assert first.returncode != 0, out  # torchrun's own traceback: 1 with torch 2.14
    stopped = re.search(r"SIGTERM: stopped after step (\d+), saved", out)
    assert stopped, out
    step = int(stopped.group(1))
    assert 5 <= step < STEPS, out
    assert steps_saved(out_dir) == [0, step]
    assert load_checkpoint(checkpoint(out_dir, step))["step"] == step
    resumed = checked(command, base)
    assert f"resumed from step {step}\n" in resumed, resumed
    assert steps_saved(out_dir) == [0, step, STEPS]
    final, a = (
        load_checkpoint(checkpoint(out_dir, STEPS)),
        load_checkpoint(checkpoint(run_a, STEPS)),
    )
    for part in ("model", "optimizers", "ema", "rng", "data"):
        assert_same(a[part], final[part], part)


# ---------------------------------------------------------------------- e. two "nodes"


def test_two_nodes_equal_two_processes_on_one(run_a, started):
    """Two torchrun launchers (--nnodes 2, one process each, c10d rendezvous on a free port of
    127.0.0.1) training into the same --out: the final checkpoint is bitwise run A's."""
    base = run_a.parent
    rdzv = ["--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{free_port()}"]
    rdzv += ["--rdzv-id", f"ganzoo-test-{uuid.uuid4().hex[:8]}"]
    nodes = [
        started(
            [
                *TORCHRUN,
                "--nnodes",
                "2",
                "--node-rank",
                str(node),
                "--nproc-per-node",
                "1",
                *rdzv,
                "-m",
                "ganzoo",
                *GAN_RUN,
                *PERIODIC,
                "--out",
                "E",
            ],
            base,
        )  # fmt: skip
        for node in (0, 1)
    ]
    outputs = [finish(node) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], "\n".join(outputs)
    assert "2 processes, 32 images each per step" in "".join(outputs)
    a, e = load_checkpoint(checkpoint(run_a, STEPS)), load_checkpoint(checkpoint(base / "E", STEPS))
    assert_same(a, e)


# -------------------------------------------------------------- f. a batch that won't split


def test_batch_size_that_does_not_divide_is_refused_before_anything_is_written(tmp_path):
    """--batch-size 63 on --nproc 2: exit status 1, the reason on one line ("Error: ... must
    divide by the 2 processes ..."), no traceback and no launcher log, no run directory."""
    done = run([*GANZOO, "train", "--model", "gan", "--steps", "3", "--batch-size", "63",
                "--nproc", "2", "--out", "F"], tmp_path)  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stdout
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, done.stdout  # refused before any worker started
    assert lines[0].startswith(
        "Error: --batch-size 63 is the global batch and must divide by the 2 processes"
    )
    assert not (tmp_path / "F").exists()


def test_a_run_of_two_processes_resumes_on_one_with_a_warning(tmp_path):
    """N -> M processes: weights and data order continue, the losses' noise cannot; it says so."""
    args = [*GANZOO, "train", "--model", "gan", "--batch-size", "64", "--checkpoint-every", "5",
            "--out", "R"]  # fmt: skip
    done = run([*args, "--steps", "10", "--nproc", "2"], tmp_path)
    assert done.returncode == 0, done.stdout
    done = run([*args, "--steps", "15"], tmp_path)
    assert done.returncode == 0, done.stdout
    assert "resumed from step 10" in done.stdout
    assert "resumed a 2-process checkpoint on 1 process(es)" in done.stdout
    assert (tmp_path / "R" / "checkpoints" / "step-00000015.pt").is_file()


# ------------------------------------------------------------------ SyncBatchNorm


def test_sync_bn_on_cpu_processes_is_refused_with_the_reason(tmp_path):
    done = run([*GANZOO, "train", "--model", "dcgan", "--steps", "2", "--sync-bn",
                "--device", "cpu", "--nproc", "2", "--out", "S"], tmp_path)  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "--sync-bn needs CUDA" in done.stdout and "Traceback" not in done.stdout


@pytest.mark.cuda
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA GPUs (NCCL)")
def test_sync_bn_on_two_gpus_keeps_the_ranks_identical(tmp_path):
    """SyncBatchNorm (batch statistics over both GPUs' shares) under NCCL, one GPU per rank."""
    torchrun = [*TORCHRUN, "--standalone", "--nproc-per-node", "2", str(WORKER)]
    checked([*torchrun, "train", str(tmp_path / "out"), "--model=dcgan:10", "--sync-bn",
             "--device", "cuda"], tmp_path)  # fmt: skip
    ranks = [torch.load(tmp_path / "out" / f"train.rank{r}.pt") for r in (0, 1)]
    assert_same(ranks[0]["dcgan"], ranks[1]["dcgan"], "dcgan")
