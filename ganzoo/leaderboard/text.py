"""The leaderboard as text: CSV, Markdown and a readable terminal table, metrics with their spread.

A metric reads ``value [low, high] ± s``: the bootstrap interval when the
result file has one, the spread over seeds when there were several; the CSV
keeps them as numbers in their own columns (``fid_low``, ``fid_high``, ...).

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

from . import notes
from .protocols import describe_protocol
from .table import COLUMNS, INTERVALS, LABELS, METRICS, Board

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


def to_csv(board: Board, sort: str | None = None, view: str = "final") -> str:
    frames = [board.table(pid, sort, view, floor=True) for pid in board.protocol_ids()]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    frame = frame[COLUMNS].copy()
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):  # a number is never a formula
            frame[column] = frame[column].map(csv_cell)
    return frame.to_csv(index=False)


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def format_value(row: pd.Series | dict[str, Any], column: str) -> str:
    """A metric with its bootstrap interval when known and its spread over seeds when several."""
    value = row[column]
    if _missing(value):
        return "-"
    fmt = METRICS[column][2]
    text = fmt.format(value)
    if column in INTERVALS:
        low, high = row.get(f"{column}_low"), row.get(f"{column}_high")
        if not _missing(low) and not _missing(high):
            text += f" [{fmt.format(low)}, {fmt.format(high)}]"
    std = row.get(f"{column}_std") if column != "bpd" else None
    pooled = row.get("train_seeds")
    seeds = pooled if not _missing(pooled) else row.get("seeds")
    if not _missing(std) and not _missing(seeds) and seeds > 1:
        text += " ± " + fmt.format(std)
    return text


def source_text(row: pd.Series | dict[str, Any]) -> str:
    """Where a row comes from, told apart at a glance: a run here, a shipped model, or a row
    kept from a run that was not here at the last rebuild (a committed board's reference run)."""
    if row.get("kept") is True:
        return "kept (run not here)"
    return format_text(row.get("source"))


def spread_text(row: pd.Series | dict[str, Any]) -> str:
    """What a row's ``± s`` is a spread over: training seeds (pooled runs) or sampling seeds."""
    pooled, seeds = row.get("train_seeds"), row.get("seeds")
    if not _missing(pooled) and pooled > 1:
        return f"{int(pooled)} training seeds (best: {row.get('best_seed')})"
    if not _missing(seeds) and seeds > 1:
        return f"{int(seeds)} sampling seeds"
    return "-"


def format_text(value: Any) -> str:
    return "-" if _missing(value) else str(value)


def format_time(seconds: Any) -> str:
    if seconds is None or pd.isna(seconds):
        return "-"
    minutes, secs = divmod(int(round(float(seconds))), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def format_seconds(seconds: Any) -> str:
    """Sampling time per image: ``4.2ms``, ``0.31s``; ``-`` where it was not measured."""
    if _missing(seconds):
        return "-"
    seconds = float(seconds)
    return f"{seconds * 1e3:.2g}ms" if seconds < 0.1 else f"{seconds:.2g}s"


def format_nfe(n: Any) -> str:
    """Network evaluations per image; ``-`` for images that were not drawn (fixed, real)."""
    return "-" if _missing(n) else str(int(n))


def format_count(n: Any) -> str:
    if n is None or pd.isna(n):
        return "-"
    n = int(n)
    return f"{n / 1e6:.2f}M" if n >= 1_000_000 else f"{n / 1e3:.1f}k" if n >= 1000 else str(n)


def measured(frame: pd.DataFrame) -> list[str]:
    """Metric columns with at least one number (IS is absent under some extractors)."""
    order = ("is", "fid", "fid_inf", "kid", "precision", "recall", "density", "coverage", "cmmd")
    order += ("bpd", "intra_fid", "accuracy", "class_tv", "copy_rate")
    return [m for m in order if frame[m].notna().any()]


def display_frame(frame: pd.DataFrame, run_base: Path | None = None) -> pd.DataFrame:
    """Human-readable strings, the columns a reader compares first."""
    out = pd.DataFrame({"rank": [format_text(r) for r in frame["rank"]]})
    if frame["group"].notna().any():
        out["group"] = [format_text(g) for g in frame["group"]]
    out["model"] = [format_text(m) for m in frame["model"]]
    sources = [source_text(r) for _, r in frame.iterrows()]
    if any(text not in ("run", "-") for text in sources):
        out["from"] = sources
    out["family"] = [format_text(f) for f in frame["family"]]
    out["plugin"] = [
        f"{p} {v}" if isinstance(v, str) else format_text(p)
        for p, v in zip(frame["plugin"], frame["plugin_version"], strict=True)
    ]
    out["params"] = [format_count(n) for n in frame["parameters"]]
    out["step"] = [step_text(s, c) for s, c in zip(frame["step"], frame["selected"], strict=True)]
    out["train time"] = [format_time(t) for t in frame["train_time_s"]]
    out["device"] = [format_text(d) for d in frame["device"]]
    if "sampling" in frame.columns:  # the sampler settings, beside the NFE they cost
        out["sampling"] = [format_text(v) for v in frame["sampling"]]
    out["NFE"] = [format_nfe(n) for n in frame["nfe"]]
    if frame["sampling"].notna().any():
        out["sampling"] = [format_text(t) for t in frame["sampling"]]
    out["s/image"] = [format_seconds(s) for s in frame["sample_s"]]
    spread = [spread_text(r) for _, r in frame.iterrows()]
    if any(text != "-" for text in spread):
        out["± over"] = spread
    for metric in measured(frame):
        out[LABELS[metric]] = [format_value(r, metric) for _, r in frame.iterrows()]
    runs = frame["run"].astype(str)
    if run_base is not None:
        runs = [os.path.relpath(run_base / r) for r in runs]
    out["run"] = list(runs)
    return out


def to_markdown(
    board: Board, sort: str | None = None, view: str = "final", plot_name: str | None = None,
    cost_name: str | None = None,
) -> str:  # fmt: skip
    """The board as Markdown: the explanations once at the top, then per table one line of
    protocol (in full at the bottom), its above-floor warnings and the table."""
    from . import cost, legend

    lines = [f"# Leaderboard: {md_text(board.dataset)}, extractor {md_text(board.extractor)}", ""]
    if not board.rows:
        lines += ["No results yet.", ""]
    frames = legend.frames(board, sort, view)
    for i, paragraph in enumerate(legend.paragraphs(board, frames)):
        lines += [("**How to read the tables.** " if i == 0 else "") + md_text(paragraph), ""]
    if cost_name:
        alt = "FID against NFE, sampling time per image and training time"
        lines += [f"![{alt}]({url_path(cost_name)})", "", md_text(cost.caption(board)), ""]
    for pid, frame in frames.items():
        lines += [f"## Protocol {md_text(pid)}", ""]
        line = md_text(legend.protocol_line(board.protocols[pid]))
        lines += [f"{line} ([full protocol](#full-protocols))", ""]
        for paragraph in notes.above_floor(frame):
            lines += [md_text(paragraph), ""]
        shown = display_frame(frame)
        lines.append("| " + " | ".join(shown.columns) + " |")
        lines.append("|" + "|".join(" --- " for _ in shown.columns) + "|")
        for _, row in shown.iterrows():
            lines.append("| " + " | ".join(md_text(v) for v in row) + " |")
        lines.append("")
    if plot_name:
        alt = "FID against training steps and wall time, IS against steps"
        lines += [f"![{alt}]({url_path(plot_name)})", ""]
    if frames:
        lines += ["## Full protocols", ""]
        lines += [f"{md_text(pid)}: {md_text(describe_protocol(board.protocols[pid]))}\n"
                  for pid in frames]  # fmt: skip
    return "\n".join(lines)


def step_text(step: Any, selected: Any) -> str:
    """The step, marked when the checkpoint was selected by in-loop evaluation (``best.pt``)."""
    if _missing(step):
        return "-"
    return f"{int(step)} (selected)" if isinstance(selected, str) else str(int(step))
