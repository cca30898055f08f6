"""The leaderboard as one self-contained HTML page, laid out to be read at a glance.

From the top: the title, a legend that folds open (every explanation once,
not above each table) and the column toggle; the quality-cost figure of the
main table; then per table one line with its protocol (the full one is folded
at the bottom, a link away), the models that score better than real data, a
forest plot of FID with intervals, the table (its header stays in view) and the
memorization galleries; last the curves.  The main columns fit a 1400 px
window; the rest fold away (``page_rows``).  Sample grids enlarge on a click.

Every value that comes from a run or a plugin goes through ``html.escape``;
no value is ever placed inside the script (``page_style``).  The real-data
floor is a row of its own (class ``floor``, rank ``floor``), and model rows
that score better than it are marked ``above-floor`` and named above the table.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pandas as pd

from . import forest, legend, notes
from .page_rows import columns, data_uri, row_html
from .page_style import CSS, SCRIPT
from .table import Board, describe_protocol
from .text import format_text, measured


def _table(board: Board, pid: str, frame: pd.DataFrame, out_dir: Path) -> str:
    cols = columns(frame, measured(frame))
    out = ['<table class="board"><thead><tr>']
    for col in cols:
        out.append(f'<th data-key="{col.key}"{col.cls()}>{escape(col.label)}</th>')
    out.append("</tr></thead><tbody>")
    for beats, (_, row) in zip(notes.beats_floor(frame), frame.iterrows(), strict=True):
        out.append(row_html(row, cols, out_dir, beats))
    out.append("</tbody></table>")
    line = legend.protocol_line(board.protocols[pid])
    return (
        f'<section id="table-{escape(pid)}"><h2>Protocol {escape(pid)}</h2>'
        f'<p class="protocol">{escape(line)} &middot; '
        f'<a href="#protocol-{escape(pid)}">full protocol</a></p>'
        + "".join(f'<p class="warning">{escape(p)}</p>' for p in notes.above_floor(frame))
        + forest.svg(frame)
        + "".join(out)
        + _copies(frame, out_dir)
        + "</section>"
    )


def _copies(frame: pd.DataFrame, out_dir: Path) -> str:
    """Per row that measured memorization, its generated images nearest to training images
    (top) above those training images (bottom), with the distances: what a copy looks like."""
    figures = []
    for _, row in frame.iterrows():
        grid = row.get("copies_grid")
        uri = (
            data_uri(out_dir / grid, out_dir, "memorization gallery")
            if isinstance(grid, str)
            else None
        )
        if uri is None:
            continue
        step = format_text(None if pd.isna(row["step"]) else int(row["step"]))
        who = f"{format_text(row['model'])} at step {step}"
        figures.append(
            f'<figure class="copies"><img class="zoom" alt="{escape(who)}: generated images '
            f'above their nearest training images" src="{uri}"><figcaption>{escape(who)}: '
            f"distances {escape(format_text(row['copy_distances']))}; a copy is nearer than "
            f"{float(row['copy_threshold']):.3g}</figcaption></figure>"
        )
    if not figures:
        return ""
    return (
        "<h3>Nearest training images</h3><p>Each model's 8 generated images nearest to a "
        "training image (top row), above that training image (bottom row), in the "
        "extractor's feature space. A distance below the threshold (the 5th percentile of "
        "held-out real images' distances to their nearest training image) counts as a copy."
        "</p>" + "".join(figures)
    )


def _legend(board: Board, frames: dict[str, pd.DataFrame]) -> str:
    """The explanations, once, folded; and the toggle for the columns that fold away."""
    how = (
        "Click a column header to sort (page.html#sort=fid opens the page sorted, "
        "#sort=fid,fid descending); click a sample grid to enlarge it. A model name links "
        "to its run; the full protocols are at the bottom of the page."
    )
    paragraphs = [*legend.paragraphs(board, frames), how]
    return (
        '<div class="bar"><details class="legend"><summary>How to read this page</summary>'
        + "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        + '</details><label class="toggle" for="all-columns">every column (family, plugin, '
        "parameters, step, device, other metrics, run)</label></div>"
    )


def _figure(path: Path | None, out_dir: Path, what: str, alt: str, caption: str) -> str:
    uri = data_uri(path, out_dir, what) if path is not None else None
    if not uri:
        return ""
    return (
        f'<figure class="{what.split()[0]}"><img class="zoom" alt="{escape(alt)}" '
        f'src="{uri}"><figcaption>{escape(caption)}</figcaption></figure>'
    )


def _protocols(board: Board) -> str:
    """Every protocol in full, folded, at the bottom: each table's line links here."""
    out = ['<h2 id="protocols">Full protocols</h2>']
    for pid in board.protocol_ids():
        protocol = board.protocols[pid]
        out.append(
            f'<details id="protocol-{escape(pid)}"><summary>Protocol {escape(pid)}: '
            f"{escape(legend.protocol_line(protocol))}</summary>"
            f'<p class="protocol">{escape(describe_protocol(protocol))}</p><pre>'
            + escape(json.dumps(protocol, indent=2, sort_keys=True))
            + "</pre></details>"
        )
    return "".join(out)


def render(
    board: Board, out_dir: Path, plot: Path | None = None, sort: str | None = None,
    view: str = "final", cost: Path | None = None,
) -> str:  # fmt: skip
    """The page; ``plot`` (the curves) and ``cost`` (the quality-cost figure) are PNGs in
    ``out_dir``, embedded when present."""
    from .cost import caption

    title = f"ganzoo leaderboard: {board.dataset}, {board.extractor}"
    frames = legend.frames(board, sort, view)
    main = [_figure(cost, out_dir, "cost plot", "FID against cost", caption(board))]
    if not board.rows:
        main.append("<p>No results yet.</p>")
    main += [_table(board, pid, frame, out_dir) for pid, frame in frames.items()]
    main.append(
        _figure(plot, out_dir, "curves plot", "metric curves",
                "FID against training steps and wall time (every checkpoint), IS against steps")
    )  # fmt: skip
    main.append(_protocols(board))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        + f"<h1>{escape(title)}</h1>"
        + '<input type="checkbox" id="all-columns">'  # before <main>: the CSS toggle needs it
        + _legend(board, frames)
        + "<main>"
        + "\n".join(main)
        + '</main><div id="lightbox" hidden><img alt=""><p></p></div>'
        + f"<script>{SCRIPT}</script></body></html>\n"
    )
