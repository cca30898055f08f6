"""The forest plot above each table: FID with its interval per row, best first, the floor as a band.

An inline SVG rather than a PNG: it is a few kB of text where a PNG per table
would be tens of kB of base64, it stays sharp at any zoom, its labels are
text a reader can search and copy, and it needs no matplotlib to render a
page.  Model names are the only values in it, and each goes through
``html.escape`` (the same rules hold for SVG inside HTML); numbers are
formatted floats.  It holds no script.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import pandas as pd

from .cost import label, log_scale
from .table import is_floor
from .text import format_value

ROW, TOP, LEFT, PLOT, WIDTH = 18, 22, 230, 560, 960


def _ticks(lo: float, hi: float, log: bool) -> list[float]:
    """Round numbers across [lo, hi]: 1-2-5 steps per decade on a log axis, about 6 otherwise."""
    if log:
        found = [k * 10.0**e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
                 for k in (1, 2, 5)]  # fmt: skip
        return [t for t in found if lo <= t <= hi]
    raw = (hi - lo) / 6 or 1.0
    step = min((k * 10.0 ** math.floor(math.log10(raw)) for k in (1, 2, 5, 10)),
               key=lambda s: abs(s - raw))  # fmt: skip
    return [i * step for i in range(math.ceil(lo / step), math.floor(hi / step) + 1)]


def svg(frame: pd.DataFrame, metric: str = "fid") -> str:
    """The plot of one table's rows with ``metric``; "" when no row has it."""
    if metric not in frame or not frame[metric].notna().any():
        return ""
    rows = [r for _, r in frame.iterrows() if not is_floor(r) and not pd.isna(r[metric])]
    rows.sort(key=lambda r: r[metric])
    floor = next((r for _, r in frame.iterrows() if is_floor(r) and not pd.isna(r[metric])), None)
    ends = [_ends(r, metric) for r in rows]
    spread = [v for e in ends for v in e] + (
        list(_ends(floor, metric)) if floor is not None else []
    )
    log = log_scale(spread)
    lo, hi = min(spread), max(spread)
    lo, hi = (lo / 1.2, hi * 1.2) if log else (min(lo, 0.0), hi + 0.05 * (hi - lo or 1.0))

    def x(v: float) -> float:
        f = (math.log(v / lo) / math.log(hi / lo)) if log else (v - lo) / (hi - lo)
        return round(LEFT + PLOT * f, 1)

    height = TOP + ROW * len(rows) + 24
    out = [f'<svg class="forest" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
           f'role="img" aria-label="{escape(metric.upper())} of each row with its 95% interval, '
           'best first">']  # fmt: skip
    if floor is not None:
        f_lo, f_val, f_hi = _ends(floor, metric)
        out.append(f'<rect class="band" x="{x(f_lo)}" y="{TOP - 6}" width="{x(f_hi) - x(f_lo)}" '
                   f'height="{ROW * len(rows) + 6}"/><line class="floor" x1="{x(f_val)}" '
                   f'x2="{x(f_val)}" y1="{TOP - 6}" y2="{TOP + ROW * len(rows)}"/>'
                   f'<text x="{x(f_val)}" y="{TOP - 10}" class="floor">real data (floor)</text>')  # fmt: skip
    for i, (row, (low, value, high)) in enumerate(zip(rows, ends, strict=True)):
        y = TOP + ROW * i + ROW / 2
        name = f"{row['rank']} {label(row)}"
        out.append(
            f'<text x="{LEFT - 8}" y="{y + 4}" text-anchor="end">{escape(name)}</text>'
            f'<line x1="{x(low)}" x2="{x(high)}" y1="{y}" y2="{y}"/>'
            f'<circle cx="{x(value)}" cy="{y}" r="3.5"/>'
            f'<text x="{LEFT + PLOT + 12}" y="{y + 4}">{escape(format_value(row, metric))}</text>'
        )
    axis = TOP + ROW * len(rows) + 4
    out.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT + PLOT}" y1="{axis}" y2="{axis}"/>')
    for t in _ticks(lo, hi, log):
        out.append(
            f'<text class="tick" x="{x(t)}" y="{axis + 16}" text-anchor="middle">{t:g}</text>'
        )
    return "".join(out) + "</svg>"


def _ends(row: Any, metric: str) -> tuple[float, float, float]:
    """(low, value, high); a row without an interval is a point."""
    value = float(row[metric])
    low, high = row.get(f"{metric}_low"), row.get(f"{metric}_high")
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return value, value, value
    return float(low), value, float(high)
