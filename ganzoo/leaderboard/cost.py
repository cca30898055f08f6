"""Quality against cost: FID against NFE, sampling time per image and training time.

A ranking by FID alone rewards whoever spent the most network evaluations or
training hours; a reader choosing a model wants to see what each unit of
quality costs.  One point per row of the board's main table (each run's latest
checkpoint), FID with its bootstrap interval, the cost on a log axis (NFE runs
from 1 to hundreds).  The Pareto front, the rows no other row beats on both
FID and cost, is a step line: everything above it is dominated.  The real-data
floor's FID interval is a band: no model can be told apart from real images
below its top.  A row without a cost value cannot be placed on that panel; it
is left out and the caption (``caption``) says how many.

matplotlib is imported inside ``figure`` only, so importing this module (the
page does, for ``pareto`` and ``log_scale``) stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..files.write import atomic_write
from .table import Board

#: (cost column, axis label, what a row lacks when it is left out) of each panel.
PANELS = (
    ("nfe", "network evaluations per image (NFE)", "NFE"),
    ("sample_s", "sampling time per image (s)", "s/image"),
    ("train_time_s", "training wall time (s)", "training time"),
)


def pareto(costs: Sequence[float], values: Sequence[float]) -> list[int]:
    """Indices of the points no other point beats on both (at most the cost and at most the
    value, less on one), cheapest first: the choices worth making."""
    n = len(costs)
    front = [
        i
        for i in range(n)
        if not any(
            costs[j] <= costs[i]
            and values[j] <= values[i]
            and (costs[j] < costs[i] or values[j] < values[i])
            for j in range(n)
        )
    ]
    return sorted(front, key=lambda i: (costs[i], values[i]))


def log_scale(values: Sequence[float]) -> bool:
    """A log axis when every value is positive and they span more than a factor of 15: FID runs
    from below 1 to about 30 on a small board, and the good models must not be squashed."""
    finite = [v for v in values if v is not None and not pd.isna(v)]
    return bool(finite) and min(finite) > 0 and max(finite) / min(finite) > 15


def main_table(board: Board) -> tuple[str | None, pd.DataFrame | None, dict[str, Any] | None]:
    """(protocol id, its final-view table by FID, its floor row) of the board's main table."""
    pids = board.protocol_ids()
    if not pids:
        return None, None, None
    pid = pids[0]
    return pid, board.table(pid, "fid", "final"), board.floor_row(pid)


def label(row: pd.Series | dict[str, Any]) -> str:
    """A row's name on a figure: its model, and for a sampler its NFE (short enough to stay
    inside a panel; the table has the settings), or its settings when the NFE is unknown."""
    sampling, nfe = row.get("sampling"), row.get("nfe")
    model = str(row.get("model"))
    if not (isinstance(sampling, str) and sampling):
        return model
    known = isinstance(nfe, int | float) and not isinstance(nfe, bool) and nfe == nfe
    return f"{model} ({int(nfe)} NFE)" if known else f"{model} ({sampling})"


def placed(frame: pd.DataFrame, column: str) -> tuple[pd.DataFrame, int]:
    """The rows a panel can place (FID and a positive cost), and how many rows with FID it cannot."""
    scored = frame[frame["fid"].notna()]
    cost = pd.to_numeric(scored[column], errors="coerce")
    return scored[cost > 0], int((~(cost > 0)).sum())


def caption(board: Board) -> str:
    """What the figure shows and which rows each panel leaves out: plain text, escaped by the caller."""
    pid, frame, floor = main_table(board)
    if frame is None:
        return "No results yet."
    total = int(frame["fid"].notna().sum())
    text = (
        f"FID against cost, protocol {pid}: one point per run (its latest checkpoint), "
        "bars are the bootstrap 95% intervals; the line is the Pareto front (rows no other "
        "row beats on both FID and cost)"
    )
    text += "; the green band is the real-data floor's FID interval." if floor else "."
    missing = [
        f"{left} of {total} without {what}"
        for column, _, what in PANELS
        if (left := placed(frame, column)[1])
    ]
    if missing:
        text += " Left out: " + "; ".join(missing) + "."
    return text


def figure(board: Board) -> Any:
    """The matplotlib Figure: three panels side by side."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    pid, frame, floor = main_table(board)
    fig = Figure(figsize=(15, 4.2), dpi=100)
    axes = fig.subplots(1, len(PANELS))
    names = []
    for ax, (column, xlabel, what) in zip(axes, PANELS, strict=True):
        ax.set_xlabel(xlabel)
        ax.set_ylabel("FID (lower is better)")
        ax.grid(alpha=0.3, which="both")
        points = placed(frame, column)[0] if frame is not None else None
        if points is None or points.empty:
            ax.set_title(f"FID against {what}", fontsize=10)
            ax.text(0.5, 0.5, f"no row has {what}", ha="center", va="center",
                    transform=ax.transAxes)  # fmt: skip
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        total = int(frame["fid"].notna().sum())
        ax.set_title(f"FID against {what} ({len(points)} of {total} rows)", fontsize=10)
        names.append((ax, _panel(ax, points, column, floor)))
    fig.suptitle(f"Quality against cost, protocol {pid}", fontsize=11)
    fig.tight_layout()
    for ax, spots in names:  # placed once the layout is final: spacing is in display units
        _labels(ax, *spots)
    return fig


def _panel(
    ax: Any, points: pd.DataFrame, column: str, floor: dict[str, Any] | None
) -> tuple[list[float], list[float], list[str]]:
    """Points with interval bars, the Pareto front, the floor band; the labels (x, y, text)
    are returned, to be placed once the layout is final."""
    xs = [float(v) for v in points[column]]
    ys = [float(v) for v in points["fid"]]
    low = [y if pd.isna(v) else float(v) for y, v in zip(ys, points["fid_low"], strict=True)]
    high = [y if pd.isna(v) else float(v) for y, v in zip(ys, points["fid_high"], strict=True)]
    front = pareto(xs, ys)
    on = [i in front for i in range(len(xs))]
    err = [[y - lo for y, lo in zip(ys, low, strict=True)],
           [hi - y for y, hi in zip(ys, high, strict=True)]]  # fmt: skip
    ax.errorbar(xs, ys, yerr=err, fmt="none", ecolor="0.45", elinewidth=1, capsize=3)
    ax.scatter([x for x, o in zip(xs, on, strict=True) if not o],
               [y for y, o in zip(ys, on, strict=True) if not o],
               s=30, facecolors="white", edgecolors="0.3", zorder=3, label="dominated")  # fmt: skip
    ax.scatter([xs[i] for i in front], [ys[i] for i in front], s=36, color="C0", zorder=4,
               label="Pareto front")  # fmt: skip
    right = max(xs) * 4
    ax.step([xs[i] for i in front] + [right], [ys[i] for i in front] + [ys[front[-1]]],
            where="post", color="C0", lw=1.2, zorder=2)  # fmt: skip
    spread = [*low, *high, *ys]
    if floor is not None and not pd.isna(floor.get("fid")):
        f_low, f_high = (floor.get(k) for k in ("fid_low", "fid_high"))
        if not (pd.isna(f_low) or pd.isna(f_high)):
            ax.axhspan(f_low, f_high, color="tab:green", alpha=0.18, lw=0)
            spread += [f_low, f_high]
        ax.axhline(floor["fid"], color="tab:green", ls="--", lw=1, label="real data (floor)")
        spread.append(floor["fid"])
    _scales(ax, min(xs) / 2, right, log_scale(spread))
    ax.legend(fontsize=8, loc="best", framealpha=0.9)
    return xs, ys, [label(r) for _, r in points.iterrows()]


def _scales(ax: Any, left: float, right: float, log_y: bool) -> None:
    """Log axes with plain numbers (``2``, not ``2x10^0``) where a few ticks cover the range."""
    from matplotlib.ticker import LogFormatter, NullFormatter

    ax.set_xscale("log")
    ax.set_xlim(left, right)
    ax.xaxis.set_major_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 1)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    if log_y:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 1)))


def _labels(ax: Any, xs: list[float], ys: list[float], texts: list[str]) -> None:
    """Each point's name to its right, pushed up (with a leader line) where it would overlap."""
    dpi = ax.figure.dpi
    height, width = 10 * dpi / 72, 110 * dpi / 72  # a label's box in pixels
    spots = ax.transData.transform(list(zip(xs, ys, strict=True)))
    taken: list[tuple[float, float]] = []
    for i in sorted(range(len(xs)), key=lambda i: spots[i][1]):
        x, y = spots[i]
        ty = y
        while near := [py for px, py in taken if abs(px - x) < width and abs(py - ty) < height]:
            ty = max(near) + height + 0.5  # past it: an exact sum may round back inside
        taken.append((x, ty))
        shift = (ty - y) * 72 / dpi
        ax.annotate(
            texts[i], (xs[i], ys[i]), xytext=(7, shift), textcoords="offset points",
            fontsize=8, va="center", parse_math=False,
            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75},  # a model named "$x$" stays as written
            arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.5"} if shift > 1 else None,
        )  # fmt: skip


def write_cost(board: Board, path: Path) -> None:
    """A PNG beside the leaderboard (``<stem>-cost.png``)."""
    fig = figure(board)
    with atomic_write(path) as fh:
        fig.savefig(fh, format="png")
