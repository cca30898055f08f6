"""Leaderboards: scoring what is missing, one ranked table per protocol, concurrent updates, the zoo."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from ganzoo import leaderboard as lb
from ganzoo.cli import cli
from ganzoo.errors import GanzooError
from ganzoo.eval.protocol import comparable_protocol

PROTOCOL = {
    "version": 1,
    "reference": {"dataset": "mnist5k", "split": "test", "num_images": 500, "subset_seed": None},
    "generated": {"source": "run", "num_images": 100, "seeds": [0], "sample_chunk": 250},
    "metrics": ["isc", "fid", "kid", "prc"],
    "extractor": {
        "name": "lenet-mnist",
        "layers": {"fid": "features"},
        "weights_sha256": "ab" * 32,
        "weights_source": "shipped",
        "resize": "none",
        "revision": 2,
    },
    "settings": {"kid_subset_size": 100},
    "batch_size": 64,
    "device": "cpu",
    "checkpoint": {"step": 10, "ema": False},
    "bits_per_dim_split": None,
    "versions": {"ganzoo": "0.1.0"},
}


def make_run(root: Path, name: str, model: str, fid: float, isc: float, step: int = 10, **proto):
    """A run directory with a result file, as training and `ganzoo eval` leave them."""
    run = root / name
    (run / "eval").mkdir(parents=True, exist_ok=True)
    (run / "run.json").write_text(
        json.dumps(
            {
                "model": model,
                "family": "gan",
                "plugin": "gan",
                "dataset": "mnist5k",
                "parameters": 1234,
            }
        )
    )
    (run / "progress.json").write_text(
        json.dumps({"checkpoints": {str(step): {"elapsed_s": 61.5, "device": "cpu"}}})
    )
    protocol = json.loads(json.dumps(PROTOCOL))
    protocol["checkpoint"]["step"] = step
    for key, value in proto.items():
        protocol[key] = value
    result = {
        "metrics": {"frechet_inception_distance": fid, "inception_score_mean": isc},
        "metrics_std_over_seeds": {"frechet_inception_distance": 0.0, "inception_score_mean": 0.0},
        "bits_per_dim": None,
        "protocol": protocol,
    }
    (run / "eval" / f"{name}-{step}.json").write_text(json.dumps(result))
    return run


# --------------------------------------------------------------- units


def test_comparable_protocol_ignores_step_versions_device_sampling_and_metric_list():
    a = json.loads(json.dumps(PROTOCOL))
    b = json.loads(json.dumps(PROTOCOL))
    b["checkpoint"]["step"] = 999
    b["versions"] = {"ganzoo": "9.9"}
    b["batch_size"], b["device"] = 7, "cuda"
    b["extractor"]["weights_source"] = "elsewhere"
    b["generated"]["seeds"] = [5]  # another draw, same number of seeds
    # How the model drew its images is the row's, not the protocol's ...
    b["generated"]["sampling"] = {"nfe": 250, "settings": {"sample_steps": 250}, "labels": None}
    # ... and which metrics ran (with the settings recorded only with them) splits no table.
    b["metrics"] = ["fid", "dc"]
    b["settings"]["dc_neighborhood"] = 5
    b["extractor"]["layers"] = {"fid": "pool3", "dc": "pool3"}
    b["training"] = {"dataset": "mnist5k", "split": "train", "num_images": 4500}
    assert lb.protocol_id(a) == lb.protocol_id(b)
    assert lb.protocol_id(comparable_protocol(b)) == lb.protocol_id(b)  # idempotent
    for change in (
        lambda p: p["generated"].update(num_images=200),
        lambda p: p["generated"].update(seeds=[0, 1]),
        lambda p: p["reference"].update(split="train"),
        lambda p: p["extractor"].update(weights_sha256="cd" * 32),
        lambda p: p["settings"].update(kid_subset_size=50),
        lambda p: p["settings"].update(prc_neighborhood=5),
    ):
        c = json.loads(json.dumps(PROTOCOL))
        change(c)
        assert lb.protocol_id(c) != lb.protocol_id(a)


def test_rank_knows_each_metric_direction():
    frame = pd.DataFrame(
        [
            {"model": "a", "run": "a", "step": 1, "fid": 30.0, "is": 2.0},
            {"model": "b", "run": "b", "step": 1, "fid": 10.0, "is": 1.5},
            {"model": "c", "run": "c", "step": 1, "fid": None, "is": 3.0},
        ],
        columns=lb.COLUMNS,
    )
    by_fid = lb.rank(frame, "fid")
    assert list(by_fid["model"]) == ["b", "a", "c"]  # lower FID first, unmeasured last
    assert list(by_fid["rank"].astype("object").where(by_fid["rank"].notna(), None)) == [1, 2, None]
    assert list(lb.rank(frame, "is")["model"]) == ["c", "a", "b"]  # higher IS first
    with pytest.raises(GanzooError, match="cannot sort by 'speed'"):
        lb.sort_metric(frame, "speed")


def test_every_board_metric_can_be_sorted_by_from_the_command_line():
    from ganzoo.leaderboard.view import SORT_METRICS  # kept free of pandas: fast --help

    assert sorted(SORT_METRICS) == sorted(lb.METRICS)


def test_protocols_are_never_ranked_together(tmp_path):
    runs = [
        make_run(tmp_path, "r1", "gan", fid=20.0, isc=2.0),
        make_run(tmp_path, "r2", "dcgan", fid=5.0, isc=3.0),
        # A better number measured with fewer samples must not outrank r2 or share its table.
        make_run(
            tmp_path,
            "r3",
            "vae",
            fid=1.0,
            isc=4.0,
            generated={"source": "run", "num_images": 50, "seeds": [0], "sample_chunk": 250},
        ),
    ]
    board = lb.update(tmp_path / "lb", "mnist5k", "lenet-mnist", runs)
    assert len(board.protocols) == 2
    main, other = board.protocol_ids()
    assert list(board.table(main)["model"]) == ["dcgan", "gan"]
    assert list(board.table(other)["model"]) == ["vae"]
    assert list(board.table(other)["rank"]) == [1]
    md = (tmp_path / "lb" / "mnist5k-lenet-mnist.md").read_text()
    assert md.count("## Protocol ") == 2 and "100 generated images" in md and "50 generated" in md
    csv = pd.read_csv(tmp_path / "lb" / "mnist5k-lenet-mnist.csv")
    assert sorted(csv["protocol"].unique()) == sorted([main, other])
    assert list(csv["train_time_s"]) == [61.5] * 3
    # A run directory that disappears keeps its rows; a deleted result file removes its row.
    import shutil

    shutil.rmtree(runs[0])
    (runs[1] / "eval" / "r2-10.json").unlink()
    board = lb.update(tmp_path / "lb", "mnist5k", "lenet-mnist")
    assert sorted(r["model"] for r in board.rows) == ["gan", "vae"]


@pytest.mark.slow
def test_concurrent_processes_lose_no_rows(tmp_path):
    n = 6
    runs = [make_run(tmp_path, f"run{i}", f"m{i}", fid=float(i + 1), isc=1.0) for i in range(n)]
    out = tmp_path / "lb"
    code = textwrap.dedent(
        """
        import sys, time
        from ganzoo import leaderboard
        start = float(sys.argv[3])
        while time.time() < start:
            time.sleep(0.005)
        leaderboard.update(sys.argv[1], "mnist5k", "lenet-mnist", [sys.argv[2]])
        """
    )
    import time

    start = time.time() + 4.0  # all processes imported and waiting, then released together
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(out), str(run), str(start)])
        for run in runs
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * n
    board = lb.load(out, "mnist5k", "lenet-mnist")
    assert sorted(r["model"] for r in board.rows) == sorted(f"m{i}" for i in range(n))
    assert [r["rank"] for r in board.rows] == list(range(1, n + 1))
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_html_escapes_values_from_runs_and_plugins(tmp_path):
    run = make_run(tmp_path, "evil", "<script>alert(1)</script>", fid=3.0, isc=2.0)
    info = json.loads((run / "run.json").read_text())
    info["plugin"] = '<img src=x onerror="alert(2)">'
    info["family"] = "a&b"
    (run / "run.json").write_text(json.dumps(info))
    lb.update(tmp_path / "lb", "mnist5k", "lenet-mnist", [run])
    page = (tmp_path / "lb" / "mnist5k-lenet-mnist.html").read_text()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page and "a&amp;b" in page
    assert page.count("<script>") == 1  # only the page's own sorting script


def test_markdown_and_csv_neutralise_values_from_runs_and_plugins(tmp_path):
    extractor = {**PROTOCOL["extractor"], "resize": "<b>bold</b>"}  # reaches the protocol line
    run = make_run(tmp_path, "<img src=x onerror=alert(1)>", "<script>alert(1)</script>",
                   fid=-1.5, isc=2.0, extractor=extractor)  # fmt: skip
    info = json.loads((run / "run.json").read_text())
    info["plugin"] = '=HYPERLINK("http://evil.example","x")'
    info["family"] = "=1+1 | *b* [l](u) `c` a_b \\"
    (run / "run.json").write_text(json.dumps(info))
    lb.update(tmp_path / "lb", "mnist5k", "lenet-mnist", [run])
    md = (tmp_path / "lb" / "mnist5k-lenet-mnist.md").read_text()
    assert "<script" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md and "&lt;b&gt;bold&lt;/b&gt;" in md
    assert "../&lt;img src=x onerror=alert(1)&gt;" in md
    assert r"=1+1 \| \*b\* \[l\](u) \`c\` a\_b \\" in md
    table = [line for line in md.splitlines() if line.startswith("|")]
    cells = {len(re.findall(r"(?<!\\)\|", line)) for line in table}
    assert len(table) == 3 and len(cells) == 1  # no value added a column
    alt = "FID against training steps and wall time, IS against steps"
    assert f"![{alt}](mnist5k-lenet-mnist-curves.png)" in md
    with open(tmp_path / "lb" / "mnist5k-lenet-mnist.csv", newline="") as fh:
        (row,) = csv.DictReader(fh)
    assert row["plugin"] == "'" + info["plugin"] and row["family"] == "'" + info["family"]
    assert row["model"] == "<script>alert(1)</script>" and row["fid"] == "-1.5"


# --------------------------------------------------------------- real runs, CLI


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    runner = CliRunner()
    common = ["--steps", "4", "--checkpoint-every", "2", "--sample-every", "2", "-q"]
    common += ["--device", "cpu", "--keep", "0"]
    specs = {
        "gan": ["--set", "g_hidden=[32]", "--set", "d_hidden=[32]", "--set", "latent_dim=8"],
        "vae": ["--set", "base_channels=8", "--set", "latent_dim=4"],
    }
    runs = []
    for model, sets in specs.items():
        out = root / model
        result = runner.invoke(cli, ["train", "-m", model, "--out", str(out), *sets, *common])
        assert result.exit_code == 0, result.output
        runs.append(out)
    return runs


@pytest.mark.slow
def test_eval_leaderboard_scores_missing_then_skips(tiny_runs, tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    runner = CliRunner()
    out = tmp_path / "boards"
    args = ["eval", "leaderboard", *map(str, tiny_runs), "--num-samples", "60"]
    args += ["--all-checkpoints", "--out", str(out)]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "6 checkpoint(s) to score" in first.output
    board = lb.load(out, "mnist5k", "lenet-mnist")
    assert len(board.protocols) == 1 and len(board.rows) == 6
    assert {(r["model"], r["step"]) for r in board.rows} == {
        (m, s) for m in ("gan", "vae") for s in (0, 2, 4)
    }
    fids = [r["fid"] for r in board.rows]
    assert fids == sorted(fids) and all(f > 0 for f in fids)
    vae = [r for r in board.rows if r["model"] == "vae"]
    gan = [r for r in board.rows if r["model"] == "gan"]
    assert all(r["bpd"] > 0 for r in vae) and all(r["bpd"] is None for r in gan)
    assert all(r["parameters"] > 0 for r in board.rows)
    assert all((r["train_time_s"] > 0) == (r["step"] > 0) for r in board.rows)
    assert all((out / r["sample_grid"]).is_file() for r in board.rows)
    for suffix in (".csv", ".md", ".html", ".json", "-curves.png"):
        assert (out / f"mnist5k-lenet-mnist{suffix}").stat().st_size > 0
    results = sorted(p for run in tiny_runs for p in (run / "eval").glob("*.json"))
    stamps = [p.stat().st_mtime_ns for p in results]

    again = runner.invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert "0 checkpoint(s) to score" in again.output
    assert [p.stat().st_mtime_ns for p in results] == stamps

    # Another protocol: only the latest checkpoints are scored, in their own table.
    other = runner.invoke(
        cli, ["eval", "leaderboard", *map(str, tiny_runs), "--num-samples", "40", "--out", str(out)]
    )
    assert other.exit_code == 0, other.output
    assert "2 checkpoint(s) to score" in other.output
    board = lb.load(out, "mnist5k", "lenet-mnist")
    assert len(board.protocols) == 2 and len(board.rows) == 8
    assert other.output.count("protocol ") >= 2

    shown = runner.invoke(
        cli, ["leaderboard", "--dir", str(out), "--sort", "is", "--latest", "--format", "json"]
    )
    data = json.loads(shown.output)
    assert len(data["rows"]) == 4 and {r["step"] for r in data["rows"]} == {4}
    table = runner.invoke(cli, ["leaderboard", "--dir", str(out)])
    assert table.exit_code == 0 and "ranked by FID (lower is better)" in table.output
    assert "vae" in table.output and "bits/dim" in table.output
    missing = runner.invoke(cli, ["leaderboard", "--dir", str(out), "--dataset", "cifar10"])
    assert missing.exit_code == 1 and "available: mnist5k-lenet-mnist" in missing.output


@pytest.mark.slow
def test_density_and_coverage_reach_the_board_with_their_intervals(
    tiny_runs, tmp_path, monkeypatch
):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    runner = CliRunner()
    out = tmp_path / "boards"
    args = ["eval", "leaderboard", *map(str, tiny_runs), "--num-samples", "60"]
    scored = runner.invoke(cli, [*args, "--metrics", "fid,pr,dc", "--out", str(out)])
    assert scored.exit_code == 0, scored.output
    board = lb.load(out, "mnist5k", "lenet-mnist")
    # The runs' results under other protocols (earlier tests) join the board in their own tables.
    ((pid, protocol),) = [(i, p) for i, p in board.protocols.items() if "dc" in p["metrics"]]
    rows = [r for r in board.rows if r["protocol"] == pid]
    assert len(rows) == 2 and protocol["settings"]["dc_neighborhood"] == 5
    for row in rows:
        for metric in ("density", "coverage"):
            assert row[f"{metric}_low"] <= row[metric] <= row[f"{metric}_high"], (row, metric)
        assert 0 <= row["coverage"] <= 1 and row["density"] >= 0
    shown = runner.invoke(cli, ["leaderboard", "--dir", str(out), "--sort", "coverage"])
    assert shown.exit_code == 0, shown.output
    assert "ranked by coverage (higher is better)" in shown.output
    assert "density" in shown.output and "density/coverage (k=5)" in shown.output
    markdown = (out / "mnist5k-lenet-mnist.md").read_text()
    assert "| recall | density | coverage |" in markdown
    assert "metrics FID, precision/recall, density/coverage (k=5)" in markdown


@pytest.mark.slow
def test_cmmd_reaches_the_board_with_its_interval(tiny_runs, tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    runner = CliRunner()
    out = tmp_path / "boards"
    args = ["eval", "leaderboard", *map(str, tiny_runs), "--num-samples", "60"]
    scored = runner.invoke(cli, [*args, "--metrics", "fid,cmmd", "--out", str(out)])
    assert scored.exit_code == 0, scored.output
    board = lb.load(out, "mnist5k", "lenet-mnist")
    # The runs' results under other protocols (earlier tests) join the board in their own tables.
    ((pid, protocol),) = [(i, p) for i, p in board.protocols.items() if "cmmd" in p["metrics"]]
    rows = [r for r in board.rows if r["protocol"] == pid]
    assert len(rows) == 2 and protocol["settings"]["cmmd"]["sigma"] == 10
    for row in rows:
        assert 0 <= row["cmmd_low"] <= row["cmmd"] <= row["cmmd_high"], row
    shown = runner.invoke(cli, ["leaderboard", "--dir", str(out), "--sort", "cmmd"])
    assert shown.exit_code == 0, shown.output
    assert "ranked by CMMD (lower is better)" in shown.output
    assert "CMMD (sigma=10.0)" in shown.output
    markdown = (out / "mnist5k-lenet-mnist.md").read_text()
    assert "| FID | CMMD |" in markdown and "metrics FID, CMMD (sigma=10.0)" in markdown


def test_eval_leaderboard_needs_runs_and_target_still_works(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["eval", "leaderboard", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "give run directories" in result.output
    result = runner.invoke(cli, ["eval", "leaderboard", str(tmp_path)])
    assert result.exit_code == 1 and "not a run directory" in result.output
    # A run directory literally named "leaderboard" is reached as ./leaderboard.
    result = runner.invoke(cli, ["eval", "./leaderboard"])
    # Routed to scoring: the load layer's message about a TARGET, not the board's.
    assert result.exit_code == 1 and "'./leaderboard' does not exist" in result.output


@pytest.mark.slow
def test_zoo_trains_scores_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    import torch

    threads_before = torch.get_num_threads()
    runner = CliRunner()
    args = ["zoo", "--models", "gan,vae", "--steps", "2", "--num-samples", "40", "-q"]
    args += ["--out-runs", "zruns"]  # the board goes to zruns/leaderboards by default
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "[1/2] gan" in first.output and "[2/2] vae" in first.output
    board = lb.load("zruns/leaderboards", "mnist5k", "lenet-mnist")
    # step 0 (the untrained model) and the 2 checkpoints of each model, all scored
    assert sorted((r["model"], r["step"]) for r in board.rows) == [
        ("gan", 0), ("gan", 1), ("gan", 2), ("vae", 0), ("vae", 1), ("vae", 2),
    ]  # fmt: skip
    # No pretrained model's card was measured with 40 images: no reference rows.
    assert {r["source"] for r in board.rows} == {"run"} and "from `shipped`" not in first.output
    assert (tmp_path / "zruns" / "gan" / "samples" / "step-00000000.png").is_file()
    again = runner.invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert again.output.count("0 checkpoint(s) to score") == 2
    assert len(lb.load("zruns/leaderboards", "mnist5k", "lenet-mnist").rows) == 6
    assert not os.path.exists("leaderboards"), "a user's zoo leaves ./leaderboards alone"
    bad = runner.invoke(cli, ["zoo", "--models", "dcgann", "--steps", "1"])
    assert bad.exit_code == 1 and "Did you mean: dcgan" in bad.output
    assert not os.path.exists("runs")
    import torch

    assert torch.get_num_threads() == threads_before  # the zoo's thread limit does not leak


def test_the_committed_boards_fit_a_120_column_terminal_and_wide_shows_every_column():
    """The boards in leaderboards/ as `ganzoo leaderboard` prints them: the main columns
    within 120 columns, what was left out named under each table, everything with --wide."""
    boards = Path(__file__).resolve().parents[1] / "leaderboards"
    runner = CliRunner()
    narrow = runner.invoke(cli, ["leaderboard", "--dir", str(boards)])
    assert narrow.exit_code == 0, narrow.output
    lines = narrow.output.splitlines()
    assert max(len(line) for line in lines) <= 120
    headers = [line.split() for line in lines if line.split()[:2] == ["rank", "group"]]
    assert headers and all(h[:3] == ["rank", "group", "model"] and "FID" in h for h in headers)
    assert "not shown:" in narrow.output and "(ganzoo leaderboard --wide)" in narrow.output
    wide = runner.invoke(cli, ["leaderboard", "--dir", str(boards), "--wide"])
    assert wide.exit_code == 0, wide.output
    assert "not shown:" not in wide.output
    wide_lines = wide.output.splitlines()
    wide_headers = [line.split() for line in wide_lines if line.split()[:2] == ["rank", "group"]]
    assert len(wide_headers) == len(headers) and all(
        "run" in h and "recall" in h and "plugin" in h for h in wide_headers
    )
