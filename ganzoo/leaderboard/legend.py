"""How to read a board, said once: the legend above the tables and each table's one-line protocol.

A board with several tables used to repeat the same five paragraphs above each
of them, so a reader scrolled past the explanations to find the numbers.  The
page and the Markdown now print each distinct paragraph once (``paragraphs``)
and give each table one line (``protocol_line``) with a link to its full
protocol further down.  Everything here is plain text: each renderer escapes it
its own way.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from . import notes
from .table import LABELS, METRICS, Board


def protocol_line(protocol: dict[str, Any]) -> str:
    """What a reader must know to compare two tables, in one line: the rest is one click away."""
    gen = protocol.get("generated") or {}
    ref = protocol.get("reference")
    seeds = gen.get("num_seeds", 1)
    parts = [f"{gen.get('num_images')} generated images x {seeds} seed{'s' if seeds != 1 else ''}"]
    parts[0] += (
        f" vs {ref.get('num_images')} {ref.get('dataset')}:{ref.get('split')} images"
        if isinstance(ref, dict)
        else ", no reference"
    )
    parts.append(f"extractor {(protocol.get('extractor') or {}).get('name')}")
    if gen.get("nfe") is not None:
        drawn = ", ".join(f"{k}={v}" for k, v in (gen.get("sampling_settings") or {}).items())
        parts.append(f"NFE {gen['nfe']}" + (f" ({drawn})" if drawn else ""))
    return "; ".join(parts)


def ranked_by(frame: pd.DataFrame) -> str:
    metric = frame.attrs["sort"]
    better = "lower" if METRICS[metric][1] else "higher"
    return f"Ranked by {LABELS[metric]} ({better} is better)."


def table_paragraphs(board: Board, pid: str, frame: pd.DataFrame) -> list[str]:
    """The explanations one table needs (not its protocol nor its above-floor warnings)."""
    found = [f"{ranked_by(frame)} {notes.view(frame)}"]
    found += [p for p in (notes.spread(frame), notes.groups(frame)) if p]
    return [*found, notes.floor(board, pid)]


def paragraphs(board: Board, frames: dict[str, pd.DataFrame]) -> list[str]:
    """Every distinct explanation of the board's tables, once each, in the order first needed.

    Tables of one board mostly share them word for word; a paragraph that
    differs (another floor, no intervals) is kept as well, so nothing is lost.
    """
    seen: dict[str, None] = {}
    for pid, frame in frames.items():
        for paragraph in table_paragraphs(board, pid, frame):
            seen.setdefault(paragraph, None)
    return list(seen)


def frames(board: Board, sort: str | None = None, view: str = "final") -> dict[str, pd.DataFrame]:
    """Each protocol's table with its floor, main table first."""
    return {pid: board.table(pid, sort, view, floor=True) for pid in board.protocol_ids()}
