"""scripts/gpu_check.sh's table script runs end to end (on the CPU, at tiny sizes), so it is
ready the day a GPU is lent: every row is measured and printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "perf" / "gpu_table.py"


@pytest.mark.slow
def test_the_gpu_table_script_prints_every_row_on_a_cpu(tmp_path):
    env = {**os.environ, "GANZOO_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--device", "cpu", "--quick"],
        capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert sum("train " in row for row in rows) == 7  # every first-party model
    for label in ("Trainer / plain loop", "Inception images/s", "FID 40 samples vs 40 real"):
        assert any(label in row for row in rows), label
