"""``ganzoo compare`` and ``ganzoo.paired``: the paired bootstrap of two models' difference.

On the shipped models with lenet-mnist against mnist5k's 500 test digits:
dcgan against the collapsed gan is a real FID difference, and two independent
draws of dcgan are none.  The paired interval is checked against a float64
NumPy/SciPy computation from the features and the documented index draws; a
stored result is reused without being touched, a fresh one is written only
once both sides are scored; board groups follow the paired rule.
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli

FID = "frechet_inception_distance"


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")


def invoke(*args: str):
    result = CliRunner().invoke(cli, ["compare", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def test_dcgan_against_the_collapsed_gan_is_a_real_fid_difference():
    out = invoke("dcgan-mnist5k", "gan-mnist5k", "--metrics", "fid")
    (line,) = [line for line in out.splitlines() if line.strip().startswith("FID")]
    found = re.search(
        r"A's FID is lower by ([\d.]+) \[([\d.]+), ([\d.]+)\]: a real difference", line
    )
    assert found, line
    point, low, high = map(float, found.groups())
    assert 0 < low <= point <= high  # ~2.4 against ~28 (docs/pretrained.md)
    assert "protocol " in out and "500 generated images each vs 500 real images" in out
    assert "A: dcgan-mnist5k (scored now, sampling seed 0)" in out


def test_two_draws_of_one_model_show_no_fid_difference():
    data = json.loads(invoke("dcgan-mnist5k", "dcgan-mnist5k", "--metrics", "fid", "--json"))
    (fid,) = data["paired"]["differences"]
    low, high = fid["interval"]
    assert low < 0 < high and fid["verdict"].startswith("A-B ")
    assert "no difference detectable with 500 images" in fid["verdict"]
    assert data["a"]["result"]["protocol"]["generated"]["seeds"] == [0]
    assert data["b"]["result"]["protocol"]["generated"]["seeds"] == [1]
    assert fid["a"] != fid["b"]  # two draws, not one set of images twice
    assert "independent draw of the same model" in data["notes"][0]


def lenet_features(images: torch.Tensor) -> torch.Tensor:
    from ganzoo_extractors.lenet import LeNetMnistExtractor

    net = LeNetMnistExtractor("lenet-mnist", ["features"])
    with torch.no_grad():
        return net(images.expand(-1, 3, -1, -1).contiguous())[0]


@pytest.fixture(scope="module")
def image_sets() -> dict[str, torch.Tensor]:
    """Three sets of 300 digits: two draws of the real distribution, and a degraded one."""
    train = ganzoo.load_dataset("mnist5k", "train").images
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
    noise = torch.randn(300, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    noisy = (train[order[600:900]].float() + 40 * noise).clamp(0, 255).byte()
    return {"first": train[order[:300]], "second": train[order[300:600]], "noisy": noisy}


@pytest.fixture(scope="module")
def results(image_sets) -> dict:
    return {
        name: ganzoo.evaluate(images, dataset="mnist5k", metrics="fid")
        for name, images in image_sets.items()
    }


def numpy_fid(gen: np.ndarray, real: np.ndarray) -> float:
    from scipy import linalg

    mu1, mu2 = gen.mean(0), real.mean(0)
    s1, s2 = np.cov(gen, rowvar=False), np.cov(real, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2) - 2 * np.trace(covmean))


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")  # lenet's dead features
def test_the_paired_interval_equals_a_float64_numpy_reference(image_sets, results):
    """Same features, the documented draws (real rows from (seed, real count, i), generated rows
    from (seed, fingerprint, i)), FID by SciPy, the bias-corrected percentile by hand."""
    from ganzoo.eval.replicates import fingerprint, streams

    real = lenet_features(ganzoo.load_dataset("mnist5k", "test").images)
    sides = [lenet_features(image_sets[name]) for name in ("first", "noisy")]
    point = results["first"].metrics[FID] - results["noisy"].metrics[FID]
    reals, gens = np.float64(real.numpy()), [np.float64(s.numpy()) for s in sides]
    differences = []
    for i in range(100):
        drawn = [streams(0, fingerprint(side), len(real), i) for side in sides]
        fids = []
        for (gen_rng, real_rng), gen in zip(drawn, gens, strict=True):
            ig = gen_rng.integers(0, len(gen), len(gen))
            ir = real_rng.integers(0, len(reals), len(reals))
            fids.append(numpy_fid(gen[ig], reals[ir]))
        differences.append(fids[0] - fids[1])
    shift = np.mean(differences) - point
    expected = [np.percentile(differences, q) - shift for q in (2.5, 97.5)]
    found = ganzoo.paired(results["first"], results["noisy"]).get(FID)
    assert found.replicates == pytest.approx(differences, rel=1e-6, abs=1e-6)
    assert found.interval == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert found.difference == pytest.approx(point)
    assert found.separated and found.verdict.startswith("A's FID is lower by")
    # Narrower than two independent resamples' difference would be (the root-sum-square of the
    # two widths): the real images, resampled alike for both, take their noise with them.
    wa, wb = (
        results[n].intervals[FID][1] - results[n].intervals[FID][0] for n in ("first", "noisy")
    )
    assert found.interval[1] - found.interval[0] < (wa**2 + wb**2) ** 0.5


def _row(result, name: str) -> dict:
    from ganzoo.eval.protocol import protocol_id
    from ganzoo.leaderboard.collect import metric_columns

    stored = result.as_dict()
    return {
        "protocol": protocol_id(stored["protocol"]),
        "model": name,
        "run": f"runs/{name}",
        "step": 100,
        "seeds": 1,
        **metric_columns(stored),
    }


def test_board_groups_follow_the_paired_test_and_keep_replicates_out_of_text(results):
    from ganzoo.leaderboard.notes import groups
    from ganzoo.leaderboard.table import Board
    from ganzoo.leaderboard.text import to_csv, to_markdown

    rows = [_row(result, name) for name, result in results.items()]
    pid = rows[0]["protocol"]
    board = Board("mnist5k", "lenet-mnist", rows, {pid: results["first"].protocol})
    frame = board.table(pid)
    group = dict(zip(frame["model"], frame["group"], strict=True))
    assert group["first"] == group["second"] == 1 and group["noisy"] == 2
    for name in ("first", "second"):  # what the rule says, asked directly
        other = "second" if name == "first" else "first"
        assert not ganzoo.paired(results[name], results[other]).get(FID).separated
    assert ganzoo.paired(results["second"], results["noisy"]).get(FID).separated
    assert "paired FID difference to the leader" in groups(frame)
    assert len(frame["fid_boot"][0]) == 100
    one = f"{frame['fid_boot'][0][0]:.6f}"[:-1]  # a replicate, as any rendering would print it
    for text in (to_csv(board), to_markdown(board)):
        assert "_boot" not in text and one not in text
    # A row of a result without replicates (written before them): the overlap rule, said so.
    rows[1] = {k: v for k, v in rows[1].items() if not k.endswith("_boot")}
    mixed = Board("mnist5k", "lenet-mnist", rows, board.protocols).table(pid)
    assert "the overlap of the two intervals where a result kept no replicates" in groups(mixed)
    older = [{k: v for k, v in r.items() if not k.endswith("_boot")} for r in rows]
    overlap = Board("mnist5k", "lenet-mnist", older, board.protocols).table(pid)
    assert "whose FID interval overlaps the leader's" in groups(overlap)
    assert overlap["group"].notna().all()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare-runs")
    train = ["train", "--model", "gan", "--batch-size", "16", "--steps", "2", "-q"]
    result = CliRunner().invoke(cli, [*train, "--out", str(root / "run")])
    assert result.exit_code == 0, result.output
    return root / "run"


SMALL = ["--metrics", "fid", "--num-real", "100"]


def test_a_stored_result_is_reused_and_a_fresh_one_written_after_both_are_scored(run_dir, tmp_path):
    scored = CliRunner().invoke(cli, ["eval", str(run_dir), *SMALL])
    assert scored.exit_code == 0, scored.output
    (stored,) = (run_dir / "eval").glob("*.json")
    before = (stored.read_bytes(), stored.stat().st_mtime_ns)
    fresh = tmp_path / "fresh"
    shutil.copytree(run_dir, fresh, ignore=shutil.ignore_patterns("eval"))
    out = invoke(run_dir, fresh, *SMALL)
    assert f"A: {run_dir} (its stored result {stored}, sampling seed 0)" in out
    assert (stored.read_bytes(), stored.stat().st_mtime_ns) == before  # reused, untouched
    (written,) = (fresh / "eval").glob("*.json")
    assert f"B: {fresh} (scored now, sampling seed 0; written to {written})" in out
    kept = json.loads(written.read_text())
    assert len(kept["bootstrap_replicates"][FID]) == 100
    # Stored now, B is reused too: nothing is scored or written again.
    again = invoke(run_dir, fresh, *SMALL)
    assert f"B: {fresh} (its stored result {written}" in again
