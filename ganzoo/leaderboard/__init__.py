"""Leaderboards: ranked tables of evaluation results, one per protocol.

``table`` defines a board and ranks its tables (rank groups from the
bootstrap intervals, one row per run or every checkpoint), ``collect`` turns a
run's result files into rows, ``floor`` scores and caches each protocol's
real-data floor, ``store`` reads, rebuilds and writes the board files (pandas,
under a file lock; a damaged file is never overwritten), ``text`` renders CSV,
Markdown and the terminal view, ``page`` the self-contained HTML page (``page_rows``,
``page_style``, ``forest``: its table, style and forest plot; ``legend``: the explanations
once), ``cost`` the quality-cost figure,
``notes`` the sentences that say how to read a table, ``plot`` the curves
against steps and wall time, and ``refresh`` scores what is missing before
rebuilding; ``view`` chooses and renders boards for ``ganzoo leaderboard``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import DamagedBoardError, available, load, scan, update, write
    from .table import (
        COLUMNS,
        LABELS,
        METRICS,
        Board,
        describe_protocol,
        protocol_id,
        rank,
        records,
        sort_metric,
    )

# The names below load their module (and pandas) when first used, so that the
# command line can import ``leaderboard.view`` for its options without pandas.
_HOMES = {
    **dict.fromkeys(("DamagedBoardError", "available", "load", "scan", "update", "write"), "store"),
    **dict.fromkeys(
        ("COLUMNS", "LABELS", "METRICS", "Board", "describe_protocol", "protocol_id", "rank")
        + ("records", "sort_metric"),
        "table",
    ),
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value  # found once; later uses do not come back here
    return value


__all__ = [
    "COLUMNS",
    "LABELS",
    "METRICS",
    "Board",
    "DamagedBoardError",
    "available",
    "describe_protocol",
    "load",
    "protocol_id",
    "rank",
    "records",
    "scan",
    "sort_metric",
    "update",
    "write",
]
