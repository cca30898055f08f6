"""The leaderboard as one self-contained HTML page: sample grids inline, sortable columns.

Every value that comes from a run or a plugin goes through ``html.escape``
(a run path in a link is percent-encoded first, so it cannot be a
``javascript:`` URL); no value is ever placed inside the script.  Columns sort on a click on their
header; ``page.html#sort=fid`` (or ``#sort=fid,fid`` for descending) opens the
page sorted by clicking the same headers, which is also how the browser test
drives it.  The real-data floor is a row of its own (class ``floor``, rank
``floor``), and model rows that score better than it are marked ``above-floor``
and named above the table.
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from ..files.read import read_png
from . import notes
from .table import LABELS, Board, is_floor
from .text import (
    format_count,
    format_nfe,
    format_seconds,
    format_text,
    format_time,
    format_value,
    measured,
    reading,
    step_text,
    url_path,
)

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:middle}
td.text,th.text{text-align:left}
th{background:#f0f0f0;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td img{image-rendering:pixelated;width:112px;height:auto;display:block}
.protocol{font-size:.9em;color:#444}pre{background:#f7f7f7;padding:.5em;overflow:auto}
.plot img{max-width:100%}
tr.floor td{background:#eef6ee;font-style:italic}tr.above-floor td{background:#fdecea}
p.warning{color:#a40000}td[data-value]{white-space:nowrap}
figure.copies{display:inline-block;margin:.5em 1em .5em 0}figure.copies img{image-rendering:pixelated}
figure.copies figcaption{font-size:.85em;color:#444;max-width:480px}
"""

SCRIPT = """
(function(){
  function cellValue(row, i){
    var c = row.cells[i]; var v = c.getAttribute('data-value');
    if (v === null) return c.textContent.trim().toLowerCase();
    if (v === '') return null;
    return parseFloat(v);
  }
  function sortBy(th){
    var table = th.closest('table'); var body = table.tBodies[0];
    var i = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    Array.prototype.forEach.call(th.parentNode.children, function(h){ h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function(a, b){
      var x = cellValue(a, i), y = cellValue(b, i);
      if (x === null && y === null) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      var r = x < y ? -1 : x > y ? 1 : 0;
      return asc ? r : -r;
    });
    rows.forEach(function(r){ body.appendChild(r); });
  }
  document.querySelectorAll('table.board th').forEach(function(th){
    th.addEventListener('click', function(){ sortBy(th); });
  });
  var m = /sort=([A-Za-z_,]+)/.exec(location.hash);
  if (m) m[1].split(',').forEach(function(key){
    document.querySelectorAll('table.board th[data-key="' + key + '"]').forEach(function(th){ th.click(); });
  });
})();
"""


#: (data-key, header, text column) of the columns before the metrics.
HEADS = [
    ("rank", "#", False),
    ("group", "group", False),
    ("samples", "samples", True),
    ("model", "model", True),
    ("family", "family", True),
    ("plugin", "plugin", True),
    ("parameters", "params", False),
    ("step", "step", False),
    ("train_time_s", "train time", False),
    ("device", "device", True),
    ("nfe", "NFE", False),
    ("sample_s", "s/image", False),
]


def _data_uri(path: Path, out_dir: Path, what: str) -> str | None:
    """A PNG inside the board folder as a data URI; anything else is left out with a warning.

    A board JSON may be someone else's: its rows must not embed ``/etc/hostname``
    or a symlinked secret in a page that gets published.
    """
    data = read_png(path, out_dir, what, "the board folder")
    if data is None:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _num(value: Any) -> str:
    if isinstance(value, str) or value is None or pd.isna(value):
        return ""
    return repr(float(value))


def _row(row: pd.Series, metrics: list[str], out_dir: Path, above: bool) -> str:
    """One ``<tr>``: every value escaped, numbers also as ``data-value`` for sorting."""
    grid = row.get("sample_grid")
    uri = _data_uri(out_dir / grid, out_dir, "sample grid") if isinstance(grid, str) else None
    step = format_text(None if pd.isna(row["step"]) else int(row["step"]))
    image = f'<img alt="samples of {escape(str(row["model"]))} at step {step}" src="{uri}">'
    version = row["plugin_version"]
    plugin = format_text(row["plugin"]) + (f" {version}" if isinstance(version, str) else "")
    cells = [
        f'<td data-value="{_num(row["rank"])}">{escape(format_text(row["rank"]))}</td>',
        f'<td data-value="{_num(row["group"])}">{escape(format_text(row["group"]))}</td>',
        f'<td class="text">{image if uri else "-"}</td>',
        f'<td class="text">{escape(format_text(row["model"]))}</td>',
        f'<td class="text">{escape(format_text(row["family"]))}</td>',
        f'<td class="text">{escape(plugin)}</td>',
        f'<td data-value="{_num(row["parameters"])}">{escape(format_count(row["parameters"]))}</td>',
        f'<td data-value="{_num(row["step"])}">{escape(step_text(row["step"], row.get("selected")))}</td>',
        f'<td data-value="{_num(row["train_time_s"])}">{escape(format_time(row["train_time_s"]))}</td>',
        f'<td class="text">{escape(format_text(row["device"]))}</td>',
        f'<td data-value="{_num(row["nfe"])}">{escape(format_nfe(row["nfe"]))}</td>',
        f'<td data-value="{_num(row["sample_s"])}">{escape(format_seconds(row["sample_s"]))}</td>',
    ]
    for m in metrics:
        cells.append(f'<td data-value="{_num(row[m])}">{escape(format_value(row, m))}</td>')
    run = str(row["run"])
    cells.append(f'<td class="text"><a href="{escape(url_path(run))}">{escape(run)}</a></td>')
    cls = "floor" if is_floor(row) else "above-floor" if above else ""
    return (f'<tr class="{cls}">' if cls else "<tr>") + "".join(cells) + "</tr>"


def _table(board: Board, pid: str, out_dir: Path, sort: str | None, view: str) -> str:
    frame = board.table(pid, sort, view, floor=True)
    metrics = measured(frame)
    heads = [*HEADS, *[(m, LABELS[m], False) for m in metrics], ("run", "run", True)]
    out = ['<table class="board"><thead><tr>']
    for key, label, text in heads:
        cls = ' class="text"' if text else ""
        out.append(f'<th data-key="{key}"{cls}>{escape(label)}</th>')
    out.append("</tr></thead><tbody>")
    for beats, (_, row) in zip(notes.beats_floor(frame), frame.iterrows(), strict=True):
        out.append(_row(row, metrics, out_dir, beats))
    out.append("</tbody></table>")
    protocol, *paragraphs = reading(board, pid, frame)
    return (
        f'<section id="protocol-{escape(pid)}"><h2>Protocol {escape(pid)}</h2>'
        f'<p class="protocol">{escape(protocol)}</p>'
        + "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        + "".join(f'<p class="warning">{escape(p)}</p>' for p in notes.above_floor(frame))
        + "<p>Click a column header to sort.</p>"
        + "".join(out)
        + _copies(frame, out_dir)
        + "<details><summary>full protocol</summary><pre>"
        + escape(json.dumps(board.protocols[pid], indent=2, sort_keys=True))
        + "</pre></details></section>"
    )


def _copies(frame: pd.DataFrame, out_dir: Path) -> str:
    """Per row that measured memorization, its generated images nearest to training images
    (top) above those training images (bottom), with the distances: what a copy looks like."""
    figures = []
    for _, row in frame.iterrows():
        grid = row.get("copies_grid")
        uri = (
            _data_uri(out_dir / grid, out_dir, "memorization gallery")
            if isinstance(grid, str)
            else None
        )
        if uri is None:
            continue
        step = format_text(None if pd.isna(row["step"]) else int(row["step"]))
        who = f"{format_text(row['model'])} at step {step}"
        figures.append(
            f'<figure class="copies"><img alt="{escape(who)}: generated images above their '
            f'nearest training images" src="{uri}"><figcaption>{escape(who)}: distances '
            f"{escape(format_text(row['copy_distances']))}; a copy is nearer than "
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


def render(
    board: Board, out_dir: Path, plot: Path | None = None, sort: str | None = None,
    view: str = "final",
) -> str:  # fmt: skip
    title = f"ganzoo leaderboard: {board.dataset}, {board.extractor}"
    body = [f"<h1>{escape(title)}</h1>"]
    if not board.rows:
        body.append("<p>No results yet.</p>")
    for pid in board.protocol_ids():
        body.append(_table(board, pid, out_dir, sort, view))
    uri = _data_uri(plot, out_dir, "curves plot") if plot is not None else None
    if uri:
        body.append(
            '<section class="plot"><h2>FID against training steps and wall time (every '
            "checkpoint), IS against steps</h2>"
            f'<img alt="metric curves" src="{uri}"></section>'
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + f"<script>{SCRIPT}</script></body></html>\n"
    )
