"""The leaderboard as one self-contained HTML page: sample grids inline, sortable columns.

Every value that comes from a run or a plugin goes through ``html.escape``
(a run path in a link is percent-encoded first, so it cannot be a
``javascript:`` URL); no value is ever placed inside the script.  Columns sort on a click on their
header; ``page.html#sort=fid`` (or ``#sort=fid,fid`` for descending) opens the
page sorted by clicking the same headers, which is also how the browser test
drives it.
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from .table import LABELS, METRICS, Board, describe_protocol
from .text import format_count, format_time, format_value, measured, url_path

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
    ("samples", "samples", True),
    ("model", "model", True),
    ("family", "family", True),
    ("plugin", "plugin", True),
    ("parameters", "params", False),
    ("step", "step", False),
    ("train_time_s", "train time", False),
    ("device", "device", True),
]


def _data_uri(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _num(value: Any) -> str:
    return "" if value is None or pd.isna(value) else repr(float(value))


def _table(board: Board, pid: str, out_dir: Path) -> str:
    frame = board.table(pid)
    metrics = measured(frame)
    heads = [*HEADS, *[(m, LABELS[m], False) for m in metrics], ("run", "run", True)]
    out = ['<table class="board"><thead><tr>']
    for key, label, text in heads:
        cls = ' class="text"' if text else ""
        out.append(f'<th data-key="{key}"{cls}>{escape(label)}</th>')
    out.append("</tr></thead><tbody>")
    for _, row in frame.iterrows():
        grid = row.get("sample_grid")
        uri = _data_uri(out_dir / grid) if isinstance(grid, str) else None
        image = (
            f'<img alt="samples of {escape(str(row["model"]))} at step {int(row["step"])}" '
            f'src="{uri}">'
            if uri
            else "-"
        )
        version = row["plugin_version"]
        plugin = str(row["plugin"]) + (f" {version}" if isinstance(version, str) else "")
        cells = [
            f'<td data-value="{_num(row["rank"])}">{escape(str(row["rank"]))}</td>',
            f'<td class="text">{image}</td>',
            f'<td class="text">{escape(str(row["model"]))}</td>',
            f'<td class="text">{escape(str(row["family"]))}</td>',
            f'<td class="text">{escape(plugin)}</td>',
            f'<td data-value="{_num(row["parameters"])}">{escape(format_count(row["parameters"]))}</td>',
            f'<td data-value="{_num(row["step"])}">{int(row["step"])}</td>',
            f'<td data-value="{_num(row["train_time_s"])}">{escape(format_time(row["train_time_s"]))}</td>',
            f'<td class="text">{escape(row["device"] if isinstance(row["device"], str) else "-")}</td>',
        ]
        for m in metrics:
            cells.append(f'<td data-value="{_num(row[m])}">{escape(format_value(row, m))}</td>')
        run = str(row["run"])
        cells.append(f'<td class="text"><a href="{escape(url_path(run))}">{escape(run)}</a></td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    metric = frame.attrs["sort"]
    direction = "lower" if METRICS[metric][1] else "higher"
    return (
        f'<section id="protocol-{escape(pid)}"><h2>Protocol {escape(pid)}</h2>'
        f'<p class="protocol">{escape(describe_protocol(board.protocols[pid]))}</p>'
        f"<p>Ranked by {escape(LABELS[metric])} ({direction} is better); click a column "
        f"header to sort.</p>"
        + "".join(out)
        + "<details><summary>full protocol</summary><pre>"
        + escape(json.dumps(board.protocols[pid], indent=2, sort_keys=True))
        + "</pre></details></section>"
    )


def render(board: Board, out_dir: Path, plot: Path | None = None) -> str:
    title = f"ganzoo leaderboard: {board.dataset}, {board.extractor}"
    body = [f"<h1>{escape(title)}</h1>"]
    if not board.rows:
        body.append("<p>No results yet.</p>")
    for pid in board.protocol_ids():
        body.append(_table(board, pid, out_dir))
    uri = _data_uri(plot) if plot is not None else None
    if uri:
        body.append(
            '<section class="plot"><h2>FID and IS against training steps</h2>'
            f'<img alt="metric curves" src="{uri}"></section>'
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + f"<script>{SCRIPT}</script></body></html>\n"
    )
