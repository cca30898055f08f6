"""Pretrained models beside a user's own runs, ranked from the numbers on their cards.

``ganzoo zoo`` writes its board under the runs folder, so a checkout's committed
boards stay untouched.  A new user still wants to know how their two-minute runs
compare with models trained longer: every registered pretrained model trained on
the board's dataset whose card (``eval.json``) holds a result under one of the
board's protocols joins the board through its stand-in run
(``ganzoo.pretrained.asrun``).  Nothing is scored; the card's result is copied
into the stand-in, and each such row says ``shipped`` in the board's ``from``
column, its step count beside it.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import GanzooError, warn
from ..eval.protocol import protocol_id, result_file_name
from ..files.read import JSON_LIMIT, Refused, read_regular
from ..files.write import atomic_write_text
from ..load.folder import CONFIG, RESULTS
from ..load.registry import pretrained_models
from ..pretrained.asrun import as_run
from . import store
from .results import result_problem


def add_pretrained(out_dir: str | Path, dataset: str, extractor: str) -> list[str]:
    """Put the pretrained models measured under the board's protocols on it; their names.

    A card result that is malformed, or measured under another protocol, is not
    used: a reference row must be comparable with the rows it stands beside.
    """
    board = store.load(out_dir, dataset, extractor)
    if board is None:
        return []
    wanted = set(board.protocol_ids())
    stand_ins, names = [], []
    for entry in pretrained_models().values():
        config = _read_json(entry.folder, CONFIG)
        if not isinstance(config, dict) or config.get("dataset") != dataset:
            continue
        card = _read_json(entry.folder, RESULTS)
        results = [r for r in card if _fits(r, wanted)] if isinstance(card, list) else []
        if not results:
            continue
        try:
            run_dir = as_run(entry.name, out_dir)
        except GanzooError as exc:  # one damaged folder must not keep the others off the board
            warn(f"pretrained model {entry.name!r} left off the board: {exc}")
            continue
        for result in results:
            path = run_dir / "eval" / result_file_name(result["protocol"])
            if not path.exists():  # a result scored in the stand-in itself is kept
                atomic_write_text(path, json.dumps(result, indent=2, sort_keys=True) + "\n")
        stand_ins.append(run_dir)
        names.append(entry.name)
    if stand_ins:
        store.update(out_dir, dataset, extractor, stand_ins)
    return names


def _fits(result: object, wanted: set[str]) -> bool:
    """A well-formed card result for a checkpoint, under one of the ``wanted`` protocols."""
    if result_problem(result) is not None or not isinstance(result, dict):
        return False
    return bool(result["protocol"].get("checkpoint")) and protocol_id(result["protocol"]) in wanted


def _read_json(folder: Path, name: str) -> object:
    """A model folder's JSON file, read as a run's files are (never following a link out of
    the folder, never hanging on a FIFO); None when it cannot be, and the model is left out."""
    try:
        return json.loads(read_regular(folder / name, JSON_LIMIT, folder, "the model folder"))
    except (Refused, OSError, ValueError, RecursionError):
        return None
