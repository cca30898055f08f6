"""The board files on disk: read, locked, rebuilt from the runs and written.

A leaderboard is never edited row by row.  Every update takes an exclusive
lock, re-reads each contributing run's ``RUN/eval/*.json`` and rewrites every
file, so several ``ganzoo eval`` processes finishing at once cannot lose each
other's rows.  A run directory that has disappeared keeps the rows it had (so a
committed leaderboard survives without its runs).

The real-data floors shown with each table are read from their cache
(``OUT/floors/``, written by ``floor.ensure``); nothing here scores anything.

Because those rows exist nowhere else, a ``<stem>.json`` that is present but
unusable is never overwritten: every reader raises ``DamagedBoardError``, and
only a rebuild (``ganzoo eval leaderboard --rebuild``) moves the file aside,
never deleting it, and builds the board again from the runs that still exist.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import GanzooError
from ..files.write import UnwritableError, atomic_write_text, make_dirs
from . import floor
from .collect import collect_run, plugin_versions
from .protocols import merge_measured
from .table import FORMAT, METRICS, Board, records, stem

DAMAGED_SUFFIX = ".damaged"


class DamagedBoardError(GanzooError):
    """A board file that exists but cannot be used without losing rows; says how to recover."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = " ".join(reason.split())
        super().__init__(
            f"leaderboard file {path} is damaged ({self.reason}) and was left untouched; "
            f"recover with: {recovery_command(path.parent)} (moves the file aside, never "
            "deleting it, and rebuilds the board from the runs' eval/*.json)"
        )


def recovery_command(out_dir: Path) -> str:
    args = ["ganzoo", "eval", "leaderboard", "--rebuild", "--runs", "RUNS_DIR", "--out"]
    return shlex.join([*args, str(out_dir)])


def board_path(out_dir: str | Path, dataset: str, extractor: str) -> Path:
    return Path(out_dir) / f"{stem(dataset, extractor)}.json"


def _rows_problem(data: dict[str, Any]) -> str | None:
    rows, protocols = data.get("rows"), data.get("protocols")
    if not isinstance(protocols, dict) or not all(
        isinstance(p, dict) and isinstance(p.get("protocol"), dict)
        and isinstance(p["protocol"].get("metrics"), list)
        for p in protocols.values()
    ):  # fmt: skip
        return "its protocols are missing or malformed"
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and isinstance(r.get("run"), str)
        and isinstance(r.get("protocol"), str) and r["protocol"] in protocols
        for r in rows
    ):  # fmt: skip
        return "its rows are missing or malformed"
    return None


def format_problem(data: Any, path: Path) -> str | None:
    """Why ``data`` is not a board this version can rebuild from; None when it is one."""
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not a leaderboard"
    if data.get("format") != FORMAT:
        return f"format {data.get('format')!r}, expected {FORMAT}"
    dataset, extractor = data.get("dataset"), data.get("extractor")
    if not (isinstance(dataset, str) and isinstance(extractor, str)):
        return "no dataset or extractor name"
    if stem(dataset, extractor) != path.stem:
        return f"it holds the leaderboard {stem(dataset, extractor)}, not {path.stem}"
    if data.get("sort") is not None and data.get("sort") not in METRICS:
        return f"unknown sort metric {data.get('sort')!r}"
    return _rows_problem(data)


def read_board(path: Path) -> Board | None:
    """None only for a missing file: an unusable one raises, never passing for an empty board."""
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise DamagedBoardError(path, f"unreadable: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError too
        raise DamagedBoardError(path, f"not valid JSON: {exc}") from None
    problem = format_problem(data, path)
    if problem is not None:
        raise DamagedBoardError(path, problem)
    return Board.from_dict(data)


def load(out_dir: str | Path, dataset: str, extractor: str) -> Board | None:
    return read_board(board_path(out_dir, dataset, extractor))


def scan(out_dir: str | Path) -> tuple[list[Board], list[DamagedBoardError]]:
    """Every board in ``out_dir`` and every damaged one, by file name, so a caller can show both."""
    boards, damaged = [], []
    for path in sorted(Path(out_dir).glob("*.json")):
        try:
            board = read_board(path)
        except DamagedBoardError as exc:
            damaged.append(exc)
            continue
        if board is not None:  # None: removed since the listing
            boards.append(board)
    return boards, damaged


def available(out_dir: str | Path) -> list[Board]:
    """Every leaderboard in ``out_dir``; a damaged one raises instead of being skipped unseen."""
    boards, damaged = scan(out_dir)
    if damaged:
        raise damaged[0]
    return boards


def move_aside(path: Path) -> Path:
    """Rename a damaged board, never onto an existing file: it may hold the only copy of rows."""
    target = path.with_name(path.name + DAMAGED_SUFFIX)
    if os.path.lexists(target):
        stamp = time.strftime("%Y%m%dT%H%M%S")
        target = path.with_name(f"{path.name}{DAMAGED_SUFFIX}-{stamp}")
        n = 1
        while os.path.lexists(target):
            n += 1
            target = path.with_name(f"{path.name}{DAMAGED_SUFFIX}-{stamp}-{n}")
    os.rename(path, target)  # only ever called under the board's lock
    return target


def _lock_path(out_dir: Path, name: str) -> Path:
    return out_dir / f".{name}.lock"


@contextlib.contextmanager
def locked(out_dir: Path, name: str) -> Iterator[None]:
    """Exclusive lock for one leaderboard; held while reading sources and writing files.

    A board folder that cannot be written (read-only, full) is one line naming
    the lock file, before any board file is touched.
    """
    path = _lock_path(out_dir, name)
    try:
        make_dirs(out_dir)
        fh = open(path, "a")  # noqa: SIM115 (closed by the with below)
    except (OSError, UnwritableError) as exc:
        if isinstance(exc, OSError):
            exc = UnwritableError(path, exc)
        raise _board_unwritable(exc, out_dir) from None
    with fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _board_unwritable(exc: UnwritableError, out_dir: Path) -> UnwritableError:
    """The advice for a board file: each is replaced whole or not at all, so none is damaged."""
    fix = "free some space" if exc.full else f"make {str(out_dir)!r} writable"
    return exc.advise(
        f"no leaderboard file there is half-written; {fix} and run the same command again, "
        "or choose another --out"
    )


def _stderr(message: str) -> None:
    print(f"ganzoo: {message}", file=sys.stderr)


def _previous(path: Path, rebuild: bool, echo: Callable[[str], None]) -> Board | None:
    try:
        return read_board(path)
    except DamagedBoardError as exc:
        if not rebuild:
            raise
        aside = move_aside(path)
        echo(f"moved the damaged {path} ({exc.reason}) to {aside}; rebuilding from the runs")
        return None


def _gather(
    previous: Board | None, out_dir: Path, dataset: str, extractor: str, runs: Iterable[str | Path]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Every row re-derived from its run's files, so no update can lose another's rows."""
    versions = plugin_versions()
    sources: dict[Path, list[dict[str, Any]]] = {}
    for row in previous.rows if previous else []:
        sources.setdefault((out_dir / row["run"]).resolve(), []).append(row)
    for run in runs:
        sources.setdefault(Path(run).resolve(), [])
    rows: list[dict[str, Any]] = []
    protocols = dict(previous.protocols) if previous else {}
    for run_dir, old_rows in sorted(sources.items()):
        if (run_dir / "run.json").is_file():
            fresh = collect_run(run_dir, out_dir, dataset, extractor, versions)
            for row in fresh:
                pid = row["protocol"]
                protocols[pid] = merge_measured(protocols.get(pid), row.pop("_protocol"))
            rows.extend(fresh)
        else:  # the run is gone: its last known rows stay on the board, marked as kept
            rows.extend({**row, "kept": True} for row in old_rows)
    used = {row["protocol"] for row in rows}
    return rows, {pid: p for pid, p in protocols.items() if pid in used}


def update(
    out_dir: str | Path,
    dataset: str,
    extractor: str,
    runs: Iterable[str | Path] = (),
    sort: str | None = None,
    *,
    rebuild: bool = False,
    echo: Callable[[str], None] = _stderr,
) -> Board:
    """Add ``runs`` to a leaderboard and rebuild all of it from the runs' result files.

    A damaged board file raises ``DamagedBoardError`` before anything is written;
    with ``rebuild`` it is moved aside instead and the board built from ``runs`` alone.
    """
    out_dir = Path(out_dir)
    path = board_path(out_dir, dataset, extractor)
    if not rebuild:
        read_board(path)  # fail before the lock, whose file would be the first thing written
    with locked(out_dir, path.stem):
        previous = _previous(path, rebuild, echo)
        rows, protocols = _gather(previous, out_dir, dataset, extractor, runs)
        board = Board(
            dataset, extractor, rows, protocols, sort or (previous.sort if previous else None)
        )
        board.rows = [
            row for pid in board.protocol_ids() for row in records(board.table(pid, view="all"))
        ]
        board.floors = floor.entries(out_dir, protocols)
        write(board, out_dir)
    return board


def write(board: Board, out_dir: Path) -> list[Path]:
    """``<stem>.json`` (the source of truth: every row), ``.csv``, ``.md``, ``.html`` (one row
    per run, with the floor), ``-curves.png`` (every checkpoint) and ``-cost.png`` (quality
    against cost, the main table)."""
    from .cost import write_cost
    from .page import render
    from .plot import write_plot
    from .text import to_csv, to_markdown

    plot = out_dir / f"{board.stem}-curves.png"
    cost = out_dir / f"{board.stem}-cost.png"
    written = []
    try:
        write_plot(board, plot)
        write_cost(board, cost)
        texts = {
            ".json": json.dumps(board.as_dict(), indent=2, sort_keys=True) + "\n",
            ".csv": to_csv(board),
            ".md": to_markdown(board, plot_name=plot.name, cost_name=cost.name),
            ".html": render(board, out_dir, plot, cost=cost),
        }
        for suffix, text in texts.items():
            path = out_dir / f"{board.stem}{suffix}"
            atomic_write_text(path, text)
            written.append(path)
    except UnwritableError as exc:
        raise _board_unwritable(exc, out_dir) from None
    return [*written, plot, cost]
