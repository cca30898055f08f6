"""One table per extractor: sampling settings and the metric list leave the protocol id.

A board written under the earlier rule (NFE, sampler settings and the metric
list in the id) is read as if rebuilt; rows of runs that are gone are kept
but wait for --all-checkpoints; floors cached under an earlier id still count.
"""

from __future__ import annotations

import json
from pathlib import Path

from ganzoo import leaderboard as lb
from ganzoo.eval.protocol import comparable_protocol, protocol_id
from ganzoo.leaderboard import floor
from ganzoo.leaderboard.table import FORMAT, Board
from ganzoo.leaderboard.text import to_markdown

PROTOCOL = {
    "version": 2,
    "reference": {"dataset": "mnist5k", "split": "test", "num_images": 500, "subset_seed": None},
    "generated": {"source": "run", "num_images": 100, "seeds": [0], "sample_chunk": 250},
    "metrics": ["fid"],
    "extractor": {"name": "lenet-mnist", "weights_sha256": "ab" * 32, "resize": "none"},
    "settings": {"kid_subset_size": 100},
    "checkpoint": {"step": 10, "ema": False},
}


def make_run(root: Path, name: str, model: str, fid: float) -> Path:
    """A run directory with one result file, as training and `ganzoo eval` leave them."""
    run = root / name
    (run / "eval").mkdir(parents=True)
    info = {"model": model, "family": "gan", "plugin": "gan", "dataset": "mnist5k"}
    (run / "run.json").write_text(json.dumps(info))
    result = {"metrics": {"frechet_inception_distance": fid}, "protocol": PROTOCOL}
    (run / "eval" / "result.json").write_text(json.dumps(result))
    return run


def _old_comparable(nfe: int, settings: dict, metrics: list[str]) -> dict:
    """A comparable protocol as boards stored it before: NFE and settings inside ``generated``."""
    p = comparable_protocol({**json.loads(json.dumps(PROTOCOL)), "metrics": metrics})
    p["generated"].update(nfe=nfe, sampling_settings=settings)
    return p


def _old_board() -> dict:
    ddpm50 = _old_comparable(50, {"sample_steps": 50}, ["fid"])
    ddpm250 = _old_comparable(250, {"sample_steps": 250}, ["fid"])
    gan = _old_comparable(1, {}, ["fid", "dc"])
    gan["settings"]["dc_neighborhood"] = 5
    protocols = {"aaaaaaaaa1": ddpm50, "aaaaaaaaa2": ddpm250, "aaaaaaaaa3": gan}
    rows = [
        {
            "protocol": pid,
            "model": model,
            "run": f"../gone/{model}",
            "step": 5,
            "fid": fid,
            "nfe": n,
        }
        for pid, model, fid, n in (
            ("aaaaaaaaa1", "ddpm", 3.0, 50),
            ("aaaaaaaaa2", "ddpm", 2.5, 250),
            ("aaaaaaaaa3", "gan", 9.0, 1),
        )
    ]
    floor_row = {"protocol": "aaaaaaaaa3", "model": floor.MODEL, "run": "f", "fid": 0.4}
    return {
        "format": FORMAT,
        "dataset": "mnist5k",
        "extractor": "lenet-mnist",
        "sort": None,
        "protocols": {pid: {"protocol": p} for pid, p in protocols.items()},
        "rows": rows,
        "floors": {"aaaaaaaaa3": {"description": "d", "row": floor_row}},
    }


def test_a_board_of_the_earlier_rule_reads_as_one_table_with_a_sampling_column():
    board = Board.from_dict(_old_board())
    assert len(board.protocols) == 1
    (pid,) = board.protocols
    protocol = board.protocols[pid]
    assert "nfe" not in protocol["generated"] and "sampling_settings" not in protocol["generated"]
    assert protocol["metrics"] == ["fid", "dc"]  # the union: the table has both columns
    assert protocol["settings"]["dc_neighborhood"] == 5
    table = board.table(pid, floor=True)
    assert table["model"].tolist() == [floor.MODEL, "ddpm", "ddpm", "gan"]
    sampling = [s if isinstance(s, str) else None for s in table["sampling"]]
    assert sampling[1:] == ["sample_steps=250", "sample_steps=50", None]
    assert table["rank"].tolist() == ["floor", 1, 2, 3]
    assert pid == protocol_id(PROTOCOL)  # what a result scored today gets


def test_rows_of_gone_runs_are_kept_but_wait_for_all_checkpoints(tmp_path):
    out = tmp_path / "lb"
    out.mkdir()
    (out / "mnist5k-lenet-mnist.json").write_text(json.dumps(_old_board()))
    here = make_run(tmp_path, "here", "dcgan", fid=4.0)
    board = lb.update(out, "mnist5k", "lenet-mnist", [here], echo=lambda s: None)
    (pid,) = board.protocols
    assert [bool(r.get("kept")) for r in board.rows if "gone" in r["run"]] == [True] * 3
    assert [r.get("kept") for r in board.rows if "gone" not in r["run"]] == [None]
    final = board.table(pid)
    assert final["model"].tolist() == ["dcgan"]
    assert final.attrs["kept_hidden"] == 2
    assert "Left out: 2 run(s)" in to_markdown(board)
    assert len(board.table(pid, view="all")) == 4  # every row is still on the board
    again = json.loads((out / "mnist5k-lenet-mnist.json").read_text())
    assert sum(bool(r.get("kept")) for r in again["rows"]) == 3


def test_a_floor_cached_under_an_earlier_id_still_counts(tmp_path):
    scored = json.loads(json.dumps(PROTOCOL))
    scored["generated"] = {"source": "images", "num_images": 100, "seeds": [], "sample_chunk": 250}
    result = {"metrics": {"frechet_inception_distance": 0.5}, "protocol": scored}
    cached = {"format": floor.FORMAT, "protocol_id": "0123456789", "description": "held out"}
    (tmp_path / "floors").mkdir()
    (tmp_path / "floors" / "0123456789.json").write_text(json.dumps({**cached, "result": result}))
    table = comparable_protocol(PROTOCOL)
    found = floor.read_floor(tmp_path, protocol_id(PROTOCOL), table)
    assert found is not None and found["protocol_id"] == protocol_id(PROTOCOL)
    other = {**table, "reference": {**table["reference"], "split": "train"}}
    assert floor.read_floor(tmp_path, protocol_id(other), other) is None  # another reference
