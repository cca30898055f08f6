"""In-loop evaluation on two CPU processes (``--nproc 2``, gloo): every process samples and
encodes its share, rank 0 writes, and the numbers are one process's for the same checkpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import ganzoo

pytestmark = [pytest.mark.slow, pytest.mark.distributed, pytest.mark.timeout(600)]


def test_two_processes_score_what_one_process_scores(tmp_path):
    run = tmp_path / "run"
    command = [sys.executable, "-m", "ganzoo", "train", "--model", "dcgan", "--set", "width=8"]
    command += ["--steps", "4", "--batch-size", "16", "--log-every", "2", "--eval-every", "2"]
    command += ["--eval-samples", "60", "--nproc", "2", "-q", "--out", str(run)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    scored = {row["step"]: row for row in rows if "eval/fid" in row}
    assert sorted(scored) == [2, 4], "one row per evaluation: only rank 0 writes"
    assert len(list((run / "eval").glob("*.json"))) == 2
    for step, row in scored.items():
        alone = ganzoo.evaluate(run, checkpoint=step, metrics="fid", num_samples=60, write=False)
        assert row["eval/fid"] == pytest.approx(alone.metrics["frechet_inception_distance"], 1e-9)
        assert [row["eval/fid_low"], row["eval/fid_high"]] == pytest.approx(
            alone.intervals["frechet_inception_distance"], 1e-9
        )
        stored = json.loads(next((run / "eval").glob(f"step-{step:08d}-*.json")).read_text())
        assert stored["protocol"]["launch"]["processes"] == 2
