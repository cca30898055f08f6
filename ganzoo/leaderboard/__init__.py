"""Leaderboards: ranked tables of evaluation results, one per protocol.

``table`` defines a board and ranks its tables (rank groups from the
bootstrap intervals, one row per run or every checkpoint), ``collect`` turns a
run's result files into rows, ``floor`` scores and caches each protocol's
real-data floor, ``store`` reads, rebuilds and writes the board files (pandas,
under a file lock; a damaged file is never overwritten), ``text`` renders CSV,
Markdown and the terminal view, ``page`` the self-contained HTML page,
``notes`` the sentences that say how to read a table, ``plot`` the curves
against steps and wall time, and ``refresh`` scores what is missing before
rebuilding.
"""

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
