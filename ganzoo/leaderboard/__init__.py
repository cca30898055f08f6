"""Leaderboards: ranked tables of evaluation results, one per protocol.

``table`` defines a board and ranks its tables, ``collect`` turns a run's
result files into rows, ``store`` reads, rebuilds and writes the board files
(pandas, under a file lock; a damaged file is never overwritten), ``text``
renders CSV, Markdown and the terminal view, ``page`` the self-contained HTML
page, ``plot`` the metric-against-steps curves, and ``refresh`` scores what is
missing before rebuilding.
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
