"""The table of the page: which columns show, and each row as escaped ``<td>`` cells.

The columns a reader compares first (rank, group, samples, model, sampler
settings, cost, FID, IS, precision, recall) fit a 1400 px window; the rest
(family, plugin, parameters, step, device, other metrics, run) carry class
``extra`` and fold away until the page's "every column" toggle shows them.
Every value is escaped; numbers are also ``data-value`` attributes, which the
sorting script reads.  A run path in a link is percent-encoded first, so it
cannot be a ``javascript:`` URL.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from ..files.read import read_png
from .table import LABELS, is_floor
from .text import (
    format_count,
    format_nfe,
    format_seconds,
    format_text,
    format_time,
    format_value,
    source_text,
    spread_text,
    step_text,
    url_path,
)

#: Metrics shown without the toggle (the ranking metric always is).
MAIN_METRICS = ("fid", "is", "precision", "recall")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    text: bool = False
    extra: bool = False

    def cls(self) -> str:
        names = [n for n, on in (("text", self.text), ("extra", self.extra)) if on]
        return f' class="{" ".join(names)}"' if names else ""


def columns(frame: pd.DataFrame, metrics: list[str]) -> list[Column]:
    """The page's columns for ``frame``: where rows come from and what their ± is over when
    that varies, ``sampling`` beside NFE where rows carry it."""
    sort = frame.attrs.get("sort")
    cols = [Column("rank", "#"), Column("group", "group"), Column("samples", "samples", True),
            Column("model", "model", True)]  # fmt: skip
    rows = [r for _, r in frame.iterrows()]
    if any(source_text(r) not in ("run", "-") for r in rows):  # shipped or kept rows: say so
        cols.append(Column("source", "from", True))
    if any(spread_text(r) != "-" for r in rows):  # what a ± is over: sampling or training seeds
        cols.append(Column("spread", "± over", True))
    if "sampling" in frame.columns:
        cols.append(Column("sampling", "sampling", True))
    cols += [
        Column("nfe", "NFE"),
        Column("sample_s", "s/image"),
        Column("train_time_s", "train time"),
        Column("parameters", "params"),
    ]
    cols += [Column(m, LABELS[m], extra=m not in MAIN_METRICS and m != sort) for m in metrics]
    cols += [Column("family", "family", True, True), Column("plugin", "plugin", True, True),
             Column("step", "step", extra=True),
             Column("device", "device", True, True), Column("run", "run", True, True)]  # fmt: skip
    return cols


def data_uri(path: Path, out_dir: Path, what: str) -> str | None:
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


def _metric(row: pd.Series, metric: str) -> str:
    """The value, then its interval and spread on a smaller line, so the column stays narrow."""
    value, _, rest = format_value(row, metric).partition(" ")
    return escape(value) + (f' <span class="ci">{escape(rest)}</span>' if rest else "")


def _texts(row: pd.Series, out_dir: Path) -> dict[str, str]:
    """The inner HTML of every non-metric cell, escaped."""
    step = format_text(None if pd.isna(row["step"]) else int(row["step"]))
    grid = row.get("sample_grid")
    uri = data_uri(out_dir / grid, out_dir, "sample grid") if isinstance(grid, str) else None
    alt = escape(f"samples of {format_text(row['model'])} at step {step}")
    version = row["plugin_version"]
    plugin = format_text(row["plugin"]) + (f" {version}" if isinstance(version, str) else "")
    run = str(row["run"])
    return {
        "rank": escape(format_text(row["rank"])),
        "group": escape(format_text(row["group"])),
        "samples": f'<img class="zoom" alt="{alt}" src="{uri}">' if uri else "-",
        "model": f'<a href="{escape(url_path(run))}">{escape(format_text(row["model"]))}</a>',
        "source": escape(source_text(row)),
        "spread": escape(spread_text(row)),
        "sampling": escape(format_text(row.get("sampling"))),
        "nfe": escape(format_nfe(row["nfe"])),
        "sample_s": escape(format_seconds(row["sample_s"])),
        "train_time_s": escape(format_time(row["train_time_s"])),
        "family": escape(format_text(row["family"])),
        "plugin": escape(plugin),
        "parameters": escape(format_count(row["parameters"])),
        "step": escape(step_text(row["step"], row.get("selected"))),
        "device": escape(format_text(row["device"])),
        "run": f'<a href="{escape(url_path(run))}">{escape(run)}</a>',
    }


def row_html(row: pd.Series, cols: list[Column], out_dir: Path, above: bool) -> str:
    """One ``<tr>``: every value escaped, numbers also as ``data-value`` for sorting."""
    texts = _texts(row, out_dir)
    cells = []
    for col in cols:
        inner = texts[col.key] if col.key in texts else _metric(row, col.key)
        value = "" if col.text else f' data-value="{_num(row[col.key])}"'
        cells.append(f"<td{col.cls()}{value}>{inner}</td>")
    cls = "floor" if is_floor(row) else "above-floor" if above else ""
    return (f'<tr class="{cls}">' if cls else "<tr>") + "".join(cells) + "</tr>"
