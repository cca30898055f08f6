"""The leaderboard as text: CSV, Markdown and a readable terminal table, metrics with their spread.

Run names, model, plugin and dataset names come from whoever made the run or
the plugin, and the files are committed and rendered elsewhere: in Markdown
every such value goes through ``md_text`` (and ``url_path`` inside a link), so
it shows as written instead of becoming HTML, a link or a broken table; in CSV
a text cell a spreadsheet would run as a formula gets a leading ``'``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from .table import COLUMNS, LABELS, METRICS, Board, describe_protocol

#: HTML's three markup characters as entities, Markdown's table, code, emphasis
#: and link characters backslash-escaped, line breaks (which end a table row) as spaces.
_MARKDOWN = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\n": " ", "\r": " "}
    | {c: "\\" + c for c in "\\|`*_[]"}
)
#: OWASP's list of first characters that make a spreadsheet evaluate a cell.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def md_text(value: Any) -> str:
    return str(value).translate(_MARKDOWN)


def url_path(path: str) -> str:
    """Percent-encoded, so no character of the path can close the link or name a scheme."""
    return quote(path, safe="/")


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(board: Board, sort: str | None = None, latest_only: bool = False) -> str:
    frames = [board.table(pid, sort, latest_only) for pid in board.protocol_ids()]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    frame = frame[COLUMNS].copy()
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):  # a number is never a formula
            frame[column] = frame[column].map(csv_cell)
    return frame.to_csv(index=False)


def format_value(row: pd.Series | dict[str, Any], column: str) -> str:
    """A metric with its spread over seeds when there were several."""
    value = row[column]
    if value is None or pd.isna(value):
        return "-"
    text = METRICS[column][2].format(value)
    std = row.get(f"{column}_std") if column != "bpd" else None
    if std is not None and not pd.isna(std) and (row.get("seeds") or 1) > 1:
        text += " ± " + METRICS[column][2].format(std)
    return text


def format_time(seconds: Any) -> str:
    if seconds is None or pd.isna(seconds):
        return "-"
    minutes, secs = divmod(int(round(float(seconds))), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def format_count(n: Any) -> str:
    if n is None or pd.isna(n):
        return "-"
    n = int(n)
    return f"{n / 1e6:.2f}M" if n >= 1_000_000 else f"{n / 1e3:.1f}k" if n >= 1000 else str(n)


def measured(frame: pd.DataFrame) -> list[str]:
    """Metric columns with at least one number (IS is absent under some extractors)."""
    return [m for m in ("is", "fid", "kid", "precision", "recall", "bpd") if frame[m].notna().any()]


def display_frame(frame: pd.DataFrame, run_base: Path | None = None) -> pd.DataFrame:
    """Human-readable strings, the columns a reader compares first."""
    out = pd.DataFrame(
        {
            "rank": frame["rank"].astype(str),
            "model": frame["model"].astype(str),
            "family": frame["family"].astype(str),
            "plugin": [
                f"{p} {v}" if isinstance(v, str) else str(p)
                for p, v in zip(frame["plugin"], frame["plugin_version"], strict=True)
            ],
            "params": [format_count(n) for n in frame["parameters"]],
            "step": [str(s) for s in frame["step"]],
            "train time": [format_time(t) for t in frame["train_time_s"]],
            "device": frame["device"].fillna("-").astype(str),
        }
    )
    for metric in measured(frame):
        out[LABELS[metric]] = [format_value(r, metric) for _, r in frame.iterrows()]
    runs = frame["run"].astype(str)
    if run_base is not None:
        runs = [os.path.relpath(run_base / r) for r in runs]
    out["run"] = list(runs)
    return out


def to_markdown(
    board: Board, sort: str | None = None, latest_only: bool = False, plot_name: str | None = None
) -> str:
    lines = [f"# Leaderboard: {md_text(board.dataset)}, extractor {md_text(board.extractor)}", ""]
    if not board.rows:
        lines.append("No results yet.")
    for pid in board.protocol_ids():
        frame = board.table(pid, sort, latest_only)
        lines += [
            f"## Protocol {md_text(pid)}",
            "",
            md_text(describe_protocol(board.protocols[pid])),
            "",
            f"Ranked by {LABELS[frame.attrs['sort']]} "
            f"({'lower' if METRICS[frame.attrs['sort']][1] else 'higher'} is better).",
            "",
        ]
        shown = display_frame(frame)
        lines.append("| " + " | ".join(shown.columns) + " |")
        lines.append("|" + "|".join(" --- " for _ in shown.columns) + "|")
        for _, row in shown.iterrows():
            cells = [md_text(v) for v in row]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if plot_name:
        lines += [f"![FID and IS against training steps]({url_path(plot_name)})", ""]
    return "\n".join(lines)


def to_terminal(
    board: Board, sort: str | None = None, latest_only: bool = False, run_base: Path | None = None
) -> str:
    parts = [f"Leaderboard {board.stem} ({board.dataset}, extractor {board.extractor})"]
    if not board.rows:
        parts.append("  no results yet")
    for pid in board.protocol_ids():
        frame = board.table(pid, sort, latest_only)
        metric = frame.attrs["sort"]
        parts.append(
            f"\nprotocol {pid}: {describe_protocol(board.protocols[pid])}\n"
            f"ranked by {LABELS[metric]} ({'lower' if METRICS[metric][1] else 'higher'} is better)\n"
        )
        parts.append(display_frame(frame, run_base).to_string(index=False))
    return "\n".join(parts)
