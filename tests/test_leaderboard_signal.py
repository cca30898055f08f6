"""Leaderboards that separate signal from noise: intervals, rank groups, the real-data floor,
one row per run, curves against wall time.

The board is real: two tiny dcgan runs (a few steps and 300 steps) scored at every
checkpoint with lenet-mnist, 100 generated images against the 500 test images, by
``ganzoo eval leaderboard``; its floor is 100 real train images scored the same way.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo import leaderboard as lb
from ganzoo.cli import cli
from ganzoo.leaderboard import floor, plot
from ganzoo.leaderboard.table import rank_groups, with_floor
from ganzoo.leaderboard.text import format_value

STEM = "mnist5k-lenet-mnist"
SCORE = ["--num-samples", "100", "--metrics", "is,fid,fid_inf,kid,pr", "--all-checkpoints"]
DCGAN = ["-m", "dcgan", "--set", "width=8", "--set", "latent_dim=16", "-q", "--device", "cpu"]


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"model": r["run"], "step": 1, **r} for r in rows], columns=lb.COLUMNS)


def _groups(frame: pd.DataFrame) -> dict[str, int | None]:
    return {
        r["run"]: (None if pd.isna(r["group"]) else int(r["group"])) for _, r in frame.iterrows()
    }


# --------------------------------------------------------------- units


def test_rank_groups_follow_the_leaders_intervals():
    frame = _frame(
        [
            {"run": "e", "fid": 20.0, "fid_low": 19.0, "fid_high": 21.0},
            {"run": "a", "fid": 10.0, "fid_low": 9.0, "fid_high": 11.0},
            {"run": "c", "fid": 12.0, "fid_low": 11.5, "fid_high": 13.0},
            {"run": "b", "fid": 10.5, "fid_low": 10.2, "fid_high": 12.0},
            {"run": "g", "fid": 11.8, "fid_low": 11.7, "fid_high": 11.9},
            {"run": "d", "fid": 13.0, "fid_low": 12.8, "fid_high": 14.0},
            {"run": "f", "fid": 14.0},  # scored before intervals existed
        ]
    )
    ranked = lb.rank(frame, "fid")
    assert list(ranked["run"]) == ["a", "b", "g", "c", "d", "f", "e"]
    # a leads; b overlaps a.  g leads the rest and takes c (c also overlaps b, which no
    # longer matters); d overlaps c but not g, so it leads group 3.  f has no interval.
    assert _groups(ranked) == {"a": 1, "b": 1, "g": 2, "c": 2, "d": 3, "f": None, "e": 4}
    assert list(ranked["rank"]) == [1, 2, 3, 4, 5, 6, 7]  # groups never change the ranks
    # Higher is better: the leader is the highest precision.
    prec = _frame(
        [
            {"run": "x", "precision": 0.5, "precision_low": 0.45, "precision_high": 0.55},
            {"run": "y", "precision": 0.9, "precision_low": 0.85, "precision_high": 0.95},
            {"run": "z", "precision": 0.8, "precision_low": 0.7, "precision_high": 0.86},
        ]
    )
    assert _groups(lb.rank(prec, "precision")) == {"y": 1, "z": 1, "x": 2}
    # A metric without intervals forms no groups.
    assert rank_groups(lb.rank(frame.assign(**{"is": 1.0}), "is"), "is") == [None] * 7


def test_the_floor_is_placed_by_its_number_and_never_ranked():
    frame = lb.rank(_frame([{"run": r, "fid": f} for r, f in (("a", 3.0), ("b", 1.0))]), "fid")
    shown = with_floor(frame, {"protocol": "p", "model": "real", "run": "floors/p.json",
                               "fid": 2.0}, "fid")  # fmt: skip
    assert list(shown["run"]) == ["b", "floors/p.json", "a"]
    assert list(shown["rank"]) == [1, "floor", 2]


def test_a_value_reads_mean_interval_and_spread_over_seeds():
    row = {"fid": 12.0, "fid_low": 11.0, "fid_high": 13.5, "fid_std": 0.25, "seeds": 3}
    assert format_value(row, "fid") == "12.00 [11.00, 13.50] ± 0.25"
    assert format_value({**row, "seeds": 1}, "fid") == "12.00 [11.00, 13.50]"
    assert format_value({"fid": 12.0, "fid_low": None, "fid_high": None, "seeds": 1}, "fid") == (
        "12.00"
    )


def _protocol(split: str, num_images: int, subset_seed: int | None) -> dict:
    return {
        "reference": {"dataset": "mnist5k", "split": split, "num_images": num_images,
                      "subset_seed": subset_seed},
        "generated": {"num_images": 100, "num_seeds": 1, "sample_chunk": 250},
        "metrics": ["fid"],
        "extractor": {"name": "lenet-mnist", "weights_sha256": None, "resize": "r", "revision": 2},
    }  # fmt: skip


def _bytes(images) -> set[bytes]:
    return {image.numpy().tobytes() for image in images}


def test_held_out_images_never_include_a_reference_image():
    from ganzoo.eval.refcache import Reference

    images, held = floor.held_out(_protocol("train", 4500, None), None)
    assert held["split"] == "test" and len(images) == 100
    assert _bytes(images) <= _bytes(ganzoo.load_dataset("mnist5k", "test").images)
    # A subset of every image: the held-out ones come from the rest of it.
    images, held = floor.held_out(_protocol("all", 500, 0), None)
    reference = Reference("mnist5k", "all", "lenet-mnist", None, "r", 2, 500).images
    assert held["split"] == "all" and len(images) == 100 and len(reference) == 500
    assert not _bytes(images) & _bytes(reference)
    # Every image is the reference: nothing is left, and the board says so.
    why = floor.held_out(_protocol("all", 5000, None), None)
    assert isinstance(why, str) and "no 100 real images disjoint from the reference" in why


def test_a_floor_without_disjoint_data_is_cached_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(ganzoo, "evaluate", _never)
    protocol = _protocol("all", 5000, None)
    pid = lb.protocol_id(protocol)
    board = lb.Board("mnist5k", "lenet-mnist", [], {pid: protocol})
    assert floor.ensure(board, tmp_path, ganzoo.EvalRequest(), print)
    cached = json.loads((tmp_path / "floors" / f"{pid}.json").read_text())
    assert cached["protocol_id"] == pid and "disjoint" in cached["missing"]
    assert not floor.ensure(board, tmp_path, ganzoo.EvalRequest(), print)  # cached: nothing new
    assert floor.entries(tmp_path, {pid: protocol}) == {pid: {"missing": cached["missing"]}}


def _never(*args, **kwargs):
    raise AssertionError("ganzoo.evaluate was called")


# --------------------------------------------------------------- a real board


@pytest.fixture(scope="module")
def board_dir(tmp_path_factory):
    """(root, OUT): runs ``short`` (4 steps) and ``long`` (300) scored at every checkpoint."""
    root = tmp_path_factory.mktemp("signal")
    runner = CliRunner()
    for name, steps, every in (("short", 4, 2), ("long", 300, 100)):
        args = ["train", *DCGAN, "--out", str(root / "runs" / name), "--steps", str(steps)]
        args += ["--checkpoint-every", str(every), "--sample-every", str(every), "--keep", "0"]
        trained = runner.invoke(cli, args)
        assert trained.exit_code == 0, trained.output
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANZOO_OFFLINE", "1")
        args = ["eval", "leaderboard", "--runs", str(root / "runs"), *SCORE, "--out"]
        scored = runner.invoke(cli, [*args, str(root / "boards")])
    assert scored.exit_code == 0, scored.output
    assert "7 checkpoint(s) to score" in scored.output  # 0, 2, 4 and 0, 100, 200, 300
    assert scored.output.count("scoring the real-data floor") == 1
    return root, root / "boards"


def _board(out: Path) -> lb.Board:
    return lb.load(out, "mnist5k", "lenet-mnist")


def _md_rows(md: str) -> list[list[str]]:
    lines = [line for line in md.splitlines() if line.startswith("|")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines[2:]]


@pytest.mark.slow
def test_the_floor_is_real_data_below_every_model(board_dir):
    _, out = board_dir
    board = _board(out)
    (pid,) = board.protocols
    entry = board.floors[pid]
    assert entry["description"] == (
        "100 real mnist5k:train images (a random subset, seed 0) vs the 500 "
        "mnist5k:test reference images"
    )
    cached = json.loads((out / "floors" / f"{pid}.json").read_text())
    assert cached["held_out"] == {"dataset": "mnist5k", "split": "train", "num_images": 100,
                                  "seed": 0}  # fmt: skip
    assert cached["result"]["protocol"]["reference"] == board.protocols[pid]["reference"]
    floor_fid = entry["row"]["fid"]
    assert floor_fid == cached["result"]["metrics"]["frechet_inception_distance"]
    assert len(board.rows) == 7 and all(r["fid"] > floor_fid for r in board.rows)
    assert all(r["rank"] != "floor" for r in board.rows)  # the JSON holds runs only
    md = (out / f"{STEM}.md").read_text()
    assert "Floor: 100 real mnist5k:train images" in md and "Above the floor" not in md
    rows = _md_rows(md)
    assert [r[0] for r in rows] == ["floor", "1", "2"]  # placed by its FID, never ranked
    assert rows[0][2] == "real data (floor)"
    with open(out / f"{STEM}.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert [r["rank"] for r in table] == ["floor", "1", "2"]
    assert float(table[0]["fid"]) == pytest.approx(floor_fid)


@pytest.mark.slow
def test_intervals_from_the_result_files_reach_markdown_html_and_csv(board_dir):
    _, out = board_dir
    md = (out / f"{STEM}.md").read_text()
    page = (out / f"{STEM}.html").read_text()
    with open(out / f"{STEM}.csv", newline="") as fh:
        table = [r for r in csv.DictReader(fh) if r["rank"] != "floor"]
    assert len(table) == 2
    for row in table:
        result = json.loads((out / row["result"]).read_text())
        for column, key in (("fid", "frechet_inception_distance"), ("recall", "recall"),
                            ("kid", "kernel_inception_distance_mean"),
                            ("precision", "precision")):  # fmt: skip
            low, high = result["intervals"][key]
            assert float(row[f"{column}_low"]) == pytest.approx(low)
            assert float(row[f"{column}_high"]) == pytest.approx(high)
        fid = result["metrics"]["frechet_inception_distance"]
        low, high = result["intervals"]["frechet_inception_distance"]
        shown = f"{fid:.2f} [{low:.2f}, {high:.2f}]"
        assert shown.replace("[", r"\[").replace("]", r"\]") in md
        assert shown in re.sub(r"<[^>]+>", "", page)  # the interval on a line of its own
        assert float(row["fid_inf"]) == pytest.approx(result["metrics"]["fid_infinity"])
    assert "| FID∞ |" in md and 'data-key="fid_inf"' in page
    for text in (md.replace("\\", ""), page):
        assert "[low, high] is the bootstrap 95% interval" in text
        assert "± s, shown when several sampling seeds were scored, is the standard" in text


@pytest.mark.slow
def test_rank_groups_on_the_real_board(board_dir):
    _, out = board_dir
    board = _board(out)
    (pid,) = board.protocols
    for view in ("final", "all"):
        frame = board.table(pid, view=view)
        assert frame["group"].notna().all()
        rest = frame
        for group in (1, 2):  # each group: its leader and the rows it cannot be told from
            lead = rest.iloc[0]
            assert lead["group"] == group
            # The paired rule, recomputed here: the rows kept replicates (results of today).
            diffs = np.array(rest["fid_boot"].tolist()) - np.array(lead["fid_boot"])
            point = (rest["fid"] - lead["fid"]).to_numpy()
            shift = diffs.mean(axis=1) - point
            low, high = (np.percentile(diffs, q, axis=1) - shift for q in (2.5, 97.5))
            alike = (low <= 0) & (high >= 0)
            assert list(rest["group"] == group) == list(alike)
            rest = rest[~alike]
    md = (out / f"{STEM}.md").read_text().replace("\\", "")
    assert "every row whose paired FID difference to the leader has a 95% interval" in md
    rows = _md_rows((out / f"{STEM}.md").read_text())
    assert [r[1] for r in rows] == ["-", "1", "2"]  # floor, 300-step run, 4-step run
    assert '<th data-key="group">' in (out / f"{STEM}.html").read_text()


def _shown(out: Path, *flags: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["leaderboard", "--dir", str(out), "--format", "json", *flags])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["rows"]


@pytest.mark.slow
def test_one_row_per_run_unless_best_or_all_checkpoints_are_asked_for(board_dir):
    _, out = board_dir
    every = _board(out).rows
    by_run: dict[str, list[dict]] = {}
    for row in every:
        by_run.setdefault(row["run"], []).append(row)
    final = _shown(out)
    assert sorted((r["run"], r["step"]) for r in final) == sorted(
        (run, max(r["step"] for r in rows)) for run, rows in by_run.items()
    )
    best = _shown(out, "--best")
    assert sorted((r["run"], r["fid"]) for r in best) == sorted(
        (run, min(r["fid"] for r in rows)) for run, rows in by_run.items()
    )
    assert [r["rank"] for r in best] == [1, 2]
    shown_all = _shown(out, "--all-checkpoints")
    assert sorted((r["run"], r["step"]) for r in shown_all) == sorted(
        (r["run"], r["step"]) for r in every
    )
    assert len(shown_all) == 7
    md = CliRunner().invoke(cli, ["leaderboard", "--dir", str(out), "--best", "--format", "md"])
    assert "selected on the evaluation reference itself, so optimistic" in md.output
    assert len(_md_rows(md.output)) == 3  # two runs and the floor
    table = CliRunner().invoke(cli, ["leaderboard", "--dir", str(out), "--all-checkpoints"])
    assert table.exit_code == 0 and "Every scored checkpoint" in table.output
    assert len(_md_rows((out / f"{STEM}.md").read_text())) == 3  # the written file: one per run


@pytest.mark.slow
def test_curves_plot_fid_against_steps_and_wall_time(board_dir):
    _, out = board_dir
    board = _board(out)
    fig = plot.figure(board)
    axes = fig.get_axes()
    assert [a.get_xlabel() for a in axes] == [
        "training step", "training wall time (s)", "training step",
    ]  # fmt: skip
    assert [a.get_ylabel() for a in axes] == ["FID", "FID", "IS"]
    for ax, x in ((axes[0], "step"), (axes[1], "train_time_s")):
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert len(lines) == 2  # one per run, none for the floor
        for run in ("short", "long"):
            mine = [r for r in board.rows if r["run"].endswith(run)]
            rows = sorted(mine, key=lambda r: (r[x], r["step"]))
            (line,) = [
                li for li in lines.values() if list(li.get_ydata()) == [r["fid"] for r in rows]
            ]
            assert list(line.get_xdata()) == [r[x] for r in rows]
    assert max(axes[1].get_lines()[0].get_xdata()) != max(axes[0].get_lines()[0].get_xdata())
    with Image.open(out / f"{STEM}-curves.png") as png:
        assert png.size == (int(fig.get_figwidth() * fig.dpi), int(fig.get_figheight() * fig.dpi))


@pytest.mark.slow
def test_floors_are_cached_and_only_eval_leaderboard_scores_them(board_dir, monkeypatch):
    root, out = board_dir
    (pid,) = _board(out).protocols
    path = out / "floors" / f"{pid}.json"
    cached = path.read_bytes()
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    monkeypatch.setattr(ganzoo, "evaluate", _never)
    args = ["eval", "leaderboard", "--runs", str(root / "runs"), *SCORE, "--out", str(out)]
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert "0 checkpoint(s) to score" in again.output and "real-data floor" not in again.output
    assert path.read_bytes() == cached and _board(out).floors[pid]["row"]["fid"] > 0
    # Without the cache the floor is scored again, through ganzoo.evaluate: the patch bites.
    path.unlink()
    shown = CliRunner().invoke(cli, ["leaderboard", "--dir", str(out)])
    assert shown.exit_code == 0 and not path.exists()  # showing never scores
    rescored = CliRunner().invoke(cli, args)
    assert "scoring the real-data floor" in rescored.output
    assert isinstance(rescored.exception, AssertionError) and not path.exists()
    assert "No real-data floor yet" in (out / f"{STEM}.md").read_text()
    path.write_bytes(cached)
    lb.update(out, "mnist5k", "lenet-mnist")  # a rebuild reads the cache
    assert "Floor: 100 real" in (out / f"{STEM}.md").read_text()


@pytest.mark.slow
def test_a_model_above_the_floor_is_pointed_out(board_dir, tmp_path):
    root, out = board_dir
    board = _board(out)
    (pid,) = board.protocols
    floor_fid = board.floors[pid]["row"]["fid"]
    # A copy of a real run whose final result claims half the floor's FID.
    run = tmp_path / "runs" / "suspect"
    shutil.copytree(root / "runs" / "short", run)
    final = max((run / "eval").glob("step-00000004-*.json"))
    result = json.loads(final.read_text())
    result["metrics"]["frechet_inception_distance"] = floor_fid / 2
    result["intervals"]["frechet_inception_distance"] = [floor_fid / 3, floor_fid / 1.5]
    final.write_text(json.dumps(result))
    boards = tmp_path / "boards"
    (boards / "floors").mkdir(parents=True)
    shutil.copy(out / "floors" / f"{pid}.json", boards / "floors")
    lb.update(boards, "mnist5k", "lenet-mnist", [run])
    md = (boards / f"{STEM}.md").read_text()
    assert [r[0] for r in _md_rows(md)] == ["1", "floor"]
    assert f"Above the floor: dcgan (../runs/suspect, step 4) has FID {floor_fid / 2:.2f}" in md
    page = (boards / f"{STEM}.html").read_text()
    assert page.count('<tr class="above-floor">') == 1 and page.count('<tr class="floor">') == 1
    assert '<p class="warning">Above the floor: dcgan' in page


@pytest.mark.slow  # board_dir trains and scores a board (about 20 s)
def test_results_of_an_older_extractor_revision_are_scored_again(board_dir, monkeypatch):
    """A changed extractor (new revision) makes every stored result stale for `eval leaderboard`,
    so old and new numbers never pass for one protocol."""
    import dataclasses

    from ganzoo.eval import extractors
    from ganzoo.leaderboard.refresh import pending

    root, _ = board_dir
    runs = sorted((root / "runs").iterdir())
    request = ganzoo.EvalRequest(
        extractor="lenet-mnist", num_samples=100, metrics="is,fid,fid_inf,kid,pr"
    )
    assert pending(runs, request, all_checkpoints=True) == []
    current = extractors.get_extractor("lenet-mnist")
    newer = dataclasses.replace(current, revision=current.revision + 1)
    monkeypatch.setattr(extractors, "get_extractor", lambda name: newer)
    assert len(pending(runs, request, all_checkpoints=True)) == 7
