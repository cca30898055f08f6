"""``dcgan`` training speed on 1 vs 2 CPU processes (``ganzoo train --nproc N``).

Run: ``pytest tests/benchmarks/test_bench_distributed.py --benchmark-only
--benchmark-columns=mean,stddev,rounds``.  Each round is a fresh CLI run of
``dcgan`` on mnist5k, batch 64 (the global batch: 32 per process on 2),
STEPS steps.  pytest-benchmark's time is the whole command, start-up (imports,
rendezvous) included; ``extra_info`` has the training alone, from the run's
``progress.json`` (``elapsed_s`` of the last checkpoint): ``steps_per_s`` and,
on the 2-process run, ``speedup`` over the 1-process one.  Threads are left
to the launcher: one process uses torch's default, ``--nproc 2`` gives each
process half the cores (``OMP_NUM_THREADS``).  Nothing about speed is asserted.
Under ``--benchmark-disable`` (CI) each runs SMOKE_STEPS steps once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MEASURED_STEPS = 200
SMOKE_STEPS = 4
BATCH = 64
#: Mean training steps/s per process count, for the 2-process run's speedup.
RATES: dict[int, float] = {}


@pytest.fixture(scope="module")
def measured(request) -> bool:
    return not request.config.getoption("benchmark_disable")


def train(out: Path, steps: int, nproc: int) -> float:
    """One ``ganzoo train`` run; its training steps per second (start-up excluded)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    every = str(steps)
    command = [sys.executable, "-m", "ganzoo", "train", "--model", "dcgan", "--steps", every,
               "--batch-size", str(BATCH), "--checkpoint-every", every, "--sample-every", every,
               "--log-every", every, "--device", "cpu", "--nproc", str(nproc), "--out", str(out),
               "-q"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    progress = json.loads((out / "progress.json").read_text())
    assert progress["step"] == steps
    return steps / progress["elapsed_s"]


@pytest.mark.slow  # two python start-ups per process even at smoke size
@pytest.mark.benchmark(group="train-dcgan-processes")
@pytest.mark.parametrize("nproc", [1, 2], ids=["1-process", "2-processes"])
def test_dcgan_steps_per_second(benchmark, tmp_path, measured, nproc):
    steps = MEASURED_STEPS if measured else SMOKE_STEPS
    rates: list[float] = []

    def one_run() -> None:
        rates.append(train(tmp_path / f"run-{len(rates)}", steps, nproc))

    benchmark.pedantic(one_run, rounds=3 if measured else 1, iterations=1)
    RATES[nproc] = sum(rates) / len(rates)
    benchmark.extra_info.update(
        processes=nproc, steps=steps, batch=BATCH, cpus=os.cpu_count(), steps_per_s=RATES[nproc]
    )
    if nproc > 1 and 1 in RATES:
        benchmark.extra_info["speedup"] = RATES[nproc] / RATES[1]
