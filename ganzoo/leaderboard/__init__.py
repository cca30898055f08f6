"""Leaderboards: ranked tables of evaluation results, one per protocol.

``table`` builds and writes them (pandas, under a file lock), ``text`` renders
CSV, Markdown and the terminal view, ``page`` the self-contained HTML page,
``plot`` the metric-against-steps curves, and ``refresh`` scores what is missing
before rebuilding.
"""

from .table import (
    COLUMNS,
    LABELS,
    METRICS,
    Board,
    available,
    describe_protocol,
    load,
    protocol_id,
    rank,
    records,
    sort_metric,
    update,
    write,
)

__all__ = [
    "COLUMNS",
    "LABELS",
    "METRICS",
    "Board",
    "available",
    "describe_protocol",
    "load",
    "protocol_id",
    "rank",
    "records",
    "sort_metric",
    "update",
    "write",
]
