"""The page's parts without a browser: the Pareto front, the cost figure and its caption, the
forest plot, the legend said once, the folded columns and the Markdown (issue 24 §2, §5)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from ganzoo.leaderboard import cost, forest
from ganzoo.leaderboard.page import render
from ganzoo.leaderboard.store import write
from ganzoo.leaderboard.table import Board
from ganzoo.leaderboard.text import to_markdown

PROTOCOL = {
    "version": 1,
    "reference": {"dataset": "mnist5k", "split": "test", "num_images": 500, "subset_seed": None},
    "generated": {
        "num_images": 100,
        "num_seeds": 1,
        "nfe": 50,
        "sampling_settings": {"sample_steps": 50},
    },  # fmt: skip
    "metrics": ["isc", "fid"],
    "extractor": {"name": "lenet-mnist", "weights_sha256": "ab" * 32, "resize": "none"},
    "settings": {},
}
EVIL = "<b>$x$</b>&"


def _row(model: str, fid: float, pid: str = "p1", **more) -> dict:
    run = f"runs/{model}"
    return {"protocol": pid, "run": run, "model": model, "step": 10, "fid": fid,
            "fid_low": fid * 0.9, "fid_high": fid * 1.1, "is": 2.0, "kid": 0.01,
            "plugin": "gan", "family": "gan", "result": run} | more  # fmt: skip


def _board() -> Board:
    rows = [
        _row("cheap", 9.0, nfe=1, sample_s=0.001, train_time_s=100.0),
        _row("good", 2.0, nfe=50, sample_s=0.05, train_time_s=1000.0),
        _row("dominated", 12.0, nfe=50, sample_s=0.08, train_time_s=2000.0),
        _row(EVIL, 5.0, nfe=10, train_time_s=None),  # no s/image, no training time
        _row("other", 3.0, pid="p2", nfe=1),
    ]
    protocols = {"p1": PROTOCOL, "p2": {**PROTOCOL, "metrics": ["fid"]}}
    floor = {"protocol": "p1", "model": "real data (floor)", "run": "floors/p1.json",
             "fid": 1.0, "fid_low": 0.8, "fid_high": 1.3, "seeds": 1}  # fmt: skip
    floors = {"p1": {"description": "100 real images", "row": floor}}
    return Board("mnist5k", "lenet-mnist", rows, protocols, None, floors)


def test_pareto_keeps_the_points_no_other_beats_on_both_cheapest_first():
    costs = [1, 50, 50, 10, 100, 1]
    fids = [9, 2, 12, 5, 2, 9]
    # 12 at 50 loses to 2 at 50; 2 at 100 to 2 at 50; the two equal (1, 9) beat neither.
    assert cost.pareto(costs, fids) == [0, 5, 3, 1]
    assert cost.pareto([], []) == []


def test_the_cost_figure_has_one_labelled_point_per_row_and_says_what_it_left_out(tmp_path):
    board = _board()
    fig = cost.figure(board)
    nfe, seconds, trained = fig.axes
    labels = [[t.get_text() for t in ax.texts] for ax in (nfe, seconds, trained)]
    assert sorted(labels[0]) == sorted(["cheap", "good", "dominated", EVIL])  # as written
    assert sorted(labels[1]) == ["cheap", "dominated", "good"]
    assert sorted(labels[2]) == ["cheap", "dominated", "good"]
    assert all(ax.get_xscale() == "log" for ax in fig.axes)
    assert "Left out: 1 of 4 without s/image; 1 of 4 without training time." in cost.caption(board)
    write_cost = tmp_path / "cost.png"
    cost.write_cost(board, write_cost)
    with Image.open(write_cost) as png:
        assert png.size == (1500, 420)


def test_the_forest_plot_is_best_first_escaped_and_shows_the_floor():
    frame = _board().table("p1", floor=True)
    svg = forest.svg(frame)
    names = re.findall(r'text-anchor="end">(.*?)</text>', svg)
    assert names == ["1 good", "2 &lt;b&gt;$x$&lt;/b&gt;&amp;", "3 cheap", "4 dominated"]
    assert "<b>" not in svg and "<script" not in svg
    assert svg.count('class="band"') == 1 and "real data (floor)" in svg
    assert forest.svg(frame.drop(columns=["fid"])) == ""


def test_the_page_explains_once_folds_columns_and_links_full_protocols(tmp_path):
    board = _board()
    page = render(board, tmp_path)
    assert page.count("[low, high] is the bootstrap 95% interval") == 1  # two tables, once
    assert page.count('<details class="legend">') == 1
    for pid in ("p1", "p2"):
        assert page.count(f'href="#protocol-{pid}"') == 1
        assert page.count(f'<details id="protocol-{pid}">') == 1
    assert "NFE 50 (sample_steps=50)" in page
    assert '<th data-key="kid" class="extra">' in page and '<th data-key="fid">' in page
    assert "&lt;b&gt;$x$&lt;/b&gt;&amp;" in page and "<b>$x$" not in page
    assert page.index('<svg class="forest"') < page.index('<table class="board">')
    assert page.count("<script>") == 1


def test_a_sampling_column_shows_beside_nfe_when_rows_carry_one(tmp_path):
    board = _board()
    board.rows[0]["sampling"] = "sample_steps=<50>"
    page = render(board, tmp_path)
    heads = re.findall(r'<th data-key="(\w+)"', page)
    assert heads[heads.index("sampling") + 1] == "nfe"
    assert "sample_steps=&lt;50&gt;" in page
    assert "cheap (1 NFE)" in forest.svg(board.table("p1", floor=True))  # short on a figure
    board.rows[1].update(sampling="x=<y>", nfe=None)  # no NFE: the settings, escaped
    assert "good (x=&lt;y&gt;)" in forest.svg(board.table("p1", floor=True))


def test_markdown_explains_once_and_links_the_cost_figure(tmp_path):
    board = _board()
    md = to_markdown(board, plot_name="b-curves.png", cost_name="b-cost.png")
    assert md.count("is the bootstrap 95% interval") == 1 and md.count("## Protocol ") == 2
    assert "(b-cost.png)" in md and "Left out: 1 of 4 without s/image" in md
    assert md.count("([full protocol](#full-protocols))") == 2 and "## Full protocols" in md


@pytest.mark.parametrize("empty", [True, False])
def test_write_adds_the_cost_png_and_the_page_embeds_it(tmp_path, empty):
    board = Board("mnist5k", "lenet-mnist", []) if empty else _board()
    written = write(board, tmp_path)
    png = tmp_path / "mnist5k-lenet-mnist-cost.png"
    assert png in written and png.stat().st_size > 0
    page = (tmp_path / "mnist5k-lenet-mnist.html").read_text()
    assert page.count('<figure class="cost">') == 1
    assert ("No results yet." in page) == empty
    assert Path(tmp_path / "mnist5k-lenet-mnist.md").read_text().count("-cost.png)") == 1
