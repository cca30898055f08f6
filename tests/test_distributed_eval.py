"""Evaluation on several processes gives one process's numbers.

Each rank samples its chunks of images (chunk c seeded by (seed, c)) and
encodes its share of the real images; the features are gathered in image
order and rank 0 computes the metrics.  The 2-process runs here use gloo on
the CPU, with a timeout so that a hang fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from ganzoo.dist import World
from ganzoo.eval import sources
from ganzoo.eval.protocol import comparable_protocol, protocol_id
from ganzoo.load.pretrained import load_pretrained

TIMEOUT = 240
METRICS = "isc,fid,kid,prc"


def ganzoo(args: list[str], cache: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GANZOO_CACHE": str(cache), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "ganzoo", *args],
        capture_output=True, text=True, env=env, timeout=TIMEOUT, cwd=tmp_path,
    )  # fmt: skip


def scored(args: list[str], cache: Path, tmp_path: Path) -> dict:
    done = ganzoo(["eval", *args, "--json"], cache, tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_generated_image_i_depends_on_the_seed_and_i_only():
    """Two ranks' chunks, put in index order, are one process's images (3 chunks, uneven)."""
    model = load_pretrained("gan-mnist5k").model
    n = 2 * sources.SAMPLE_CHUNK + 7
    alone, labels, index = sources.generate(model, n, 3, model.spec.value_range)
    assert labels is None and torch.equal(index, torch.arange(n))
    parts = [
        sources.generate(model, n, 3, model.spec.value_range, SimpleNamespace(rank=r, size=2))
        for r in (0, 1)
    ]
    assert [len(p[2]) for p in parts] == [sources.SAMPLE_CHUNK + 7, sources.SAMPLE_CHUNK]
    gathered = World().gather_rows(
        {"x": torch.cat([p[0] for p in parts])}, torch.cat([p[2] for p in parts]), n
    )
    assert torch.equal(gathered["x"], alone)


def test_the_launch_is_recorded_but_not_compared():
    protocol = {"generated": {"num_images": 5}, "launch": {"processes": 2, "backend": "gloo"}}
    assert "launch" not in comparable_protocol(protocol)
    assert protocol_id(protocol) == protocol_id({**protocol, "launch": {"processes": 1}})


@pytest.mark.slow
@pytest.mark.distributed
def test_two_processes_score_what_one_does(tmp_path):
    """FID, KID, IS and precision/recall (and their intervals) of 601 samples, a count that
    does not divide by 2, from a cold reference cache on 2 processes and a warm one on 1."""
    cache = tmp_path / "cache"
    common = ["dcgan-cond-mnist5k", "--extractor", "lenet-mnist", "--num-samples", "601"]
    common += ["--split", "all", "--num-real", "601", "--metrics", METRICS]
    two = scored([*common, "--nproc", "2"], cache, tmp_path)  # computes and caches the reference
    assert len(list((cache / "fidelity").glob("ref-*.safetensors"))) == 1  # written once
    one = scored(common, cache, tmp_path)
    assert two["protocol"]["launch"] == {"processes": 2, "backend": "gloo"}
    assert one["protocol"]["launch"] == {"processes": 1, "backend": None}
    assert two["protocol_id"] == one["protocol_id"]
    assert set(one["metrics"]) >= {
        "frechet_inception_distance",
        "kernel_inception_distance_mean",
        "inception_score_mean",
        "precision",
        "recall",
    }
    for key, value in one["metrics"].items():
        assert two["metrics"][key] == pytest.approx(value, rel=1e-6, abs=1e-9), key
    for key, (low, high) in one["intervals"].items():
        assert two["intervals"][key] == pytest.approx([low, high], rel=1e-6, abs=1e-9), key


@pytest.mark.slow
@pytest.mark.distributed
def test_two_processes_write_one_result_into_a_run(tmp_path):
    cache = tmp_path / "cache"
    run = tmp_path / "run"
    done = ganzoo(
        ["train", "--model", "gan", "--steps", "2", "--out", str(run), "-q"], cache, tmp_path
    )
    assert done.returncode == 0, done.stderr
    args = [str(run), "--extractor", "lenet-mnist", "--num-samples", "300", "--metrics", "fid"]
    done = ganzoo(["eval", *args, "--nproc", "2"], cache, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("FID") == 1  # rank 0 alone prints
    written = list((run / "eval").glob("*.json"))
    assert len(written) == 1
    assert json.loads(written[0].read_text())["protocol"]["launch"]["processes"] == 2
