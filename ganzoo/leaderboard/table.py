"""Leaderboards: rows rebuilt from the runs' own result files, one ranked table per protocol.

A leaderboard is never edited row by row.  Every update takes an exclusive
lock, re-reads each contributing run's ``RUN/eval/*.json`` and rewrites every
file, so several ``ganzoo eval`` processes finishing at once cannot lose each
other's rows.  A run directory that has disappeared keeps the rows it had (so a
committed leaderboard survives without its runs).

Numbers are ranked together only when their *comparable protocol* is equal: the
recorded protocol minus what does not change a number's meaning (checkpoint
step, software versions, batch size, device, where the weights came from).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import atomic_write, atomic_write_text
from ..errors import GanzooError

FORMAT = 1

#: column -> (result key, lower is better, display format)
METRICS: dict[str, tuple[str, bool, str]] = {
    "fid": ("frechet_inception_distance", True, "{:.2f}"),
    "is": ("inception_score_mean", False, "{:.2f}"),
    "kid": ("kernel_inception_distance_mean", True, "{:.4f}"),
    "precision": ("precision", False, "{:.3f}"),
    "recall": ("recall", False, "{:.3f}"),
    "bpd": ("bits_per_dim", True, "{:.3f}"),
}
#: Which metric ranks a table when none is asked for (the first one the protocol measured).
DEFAULT_ORDER = ("fid", "kid", "is", "bpd", "precision", "recall")
LABELS = {
    "fid": "FID",
    "is": "IS",
    "kid": "KID",
    "precision": "precision",
    "recall": "recall",
    "bpd": "bits/dim",
}
COLUMNS = [
    "protocol", "rank", "model", "family", "plugin", "plugin_version", "parameters", "step",
    "ema", "train_time_s", "device", "seeds",
    "is", "is_std", "fid", "fid_std", "kid", "kid_std",
    "precision", "precision_std", "recall", "recall_std", "bpd",
    "run", "sample_grid", "result",
]  # fmt: skip


def stem(dataset: str, extractor: str) -> str:
    """``<dataset>-<extractor>``, made safe as a file name (``folder:PATH`` datasets included)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in dataset).strip("_.")
    return f"{safe or 'data'}-{extractor}"


def comparable_protocol(protocol: dict[str, Any]) -> dict[str, Any]:
    """The parts of a protocol that decide whether two numbers may be ranked together."""
    p = json.loads(json.dumps(protocol))
    for key in ("checkpoint", "versions", "batch_size", "device", "bits_per_dim_split"):
        p.pop(key, None)
    generated = p.get("generated") or {}
    p["generated"] = {
        "num_images": generated.get("num_images"),
        "num_seeds": max(len(generated.get("seeds") or []), 1),
        "sample_chunk": generated.get("sample_chunk"),
    }
    (p.get("extractor") or {}).pop("weights_source", None)
    return p


def protocol_id(protocol: dict[str, Any]) -> str:
    """Short hash of the comparable protocol: equal ids, comparable numbers."""
    text = json.dumps(comparable_protocol(protocol), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def describe_protocol(protocol: dict[str, Any]) -> str:
    """One line a reader needs to know what the numbers mean."""
    p = protocol
    ext = p.get("extractor") or {}
    ref = p.get("reference")
    gen = p.get("generated") or {}
    seeds = gen.get("num_seeds", 1)
    ref_text = (
        f"{ref['dataset']}:{ref['split']} ({ref['num_images']} real images"
        + (f", subset seed {ref['subset_seed']}" if ref.get("subset_seed") is not None else "")
        + ")"
        if ref
        else "no reference"
    )
    names = {"isc": "IS", "fid": "FID", "kid": "KID", "prc": "precision/recall"}
    metrics = ", ".join(names.get(m, m) for m in p["metrics"])
    settings = p.get("settings") or {}
    extra = (
        f"; KID subsets of {settings['kid_subset_size']}" if settings.get("kid_subset_size") else ""
    )
    return (
        f"{gen.get('num_images')} generated images x {seeds} seed{'s' if seeds != 1 else ''} "
        f"vs {ref_text}; extractor {ext.get('name')} (weights sha256 "
        f"{str(ext.get('weights_sha256'))[:12]}, resize {ext.get('resize') or '-'}); "
        f"metrics {metrics}{extra}"
    )


# ------------------------------------------------------------------ collecting rows


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _plugin_versions() -> dict[str, str | None]:
    """Installed version of each plugin entry point (read from metadata: no plugin is imported)."""
    import importlib.metadata

    from ..plugins import GROUP

    return {
        ep.name: ep.dist.version if ep.dist else None
        for ep in importlib.metadata.entry_points(group=GROUP)
    }


def result_matches(result: dict[str, Any], run_dataset: str, dataset: str, extractor: str) -> bool:
    protocol = result.get("protocol") or {}
    ref = protocol.get("reference")
    result_dataset = ref["dataset"] if ref else run_dataset
    return (
        result_dataset == dataset
        and (protocol.get("extractor") or {}).get("name") == extractor
        and protocol.get("checkpoint") is not None
    )


def _sample_grid(run_dir: Path, step: int) -> Path | None:
    exact = run_dir / "samples" / f"step-{step:08d}.png"
    if exact.is_file():
        return exact
    grids = sorted((run_dir / "samples").glob("step-*.png"))
    return grids[-1] if grids else None


def _copy_atomic(src: Path, dst: Path) -> None:
    with atomic_write(dst) as fh, open(src, "rb") as source:
        shutil.copyfileobj(source, fh)


def collect_run(
    run_dir: Path, out_dir: Path, dataset: str, extractor: str, versions: dict[str, str | None]
) -> list[dict[str, Any]]:
    """Rows of one run: one per (checkpoint, protocol) result for this dataset and extractor."""
    info = _read_json(run_dir / "run.json") or {}
    progress = (_read_json(run_dir / "progress.json") or {}).get("checkpoints", {})
    rel_run = os.path.relpath(run_dir.resolve(), out_dir.resolve())
    key = hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:8]
    rows = []
    for path in sorted((run_dir / "eval").glob("*.json")):
        result = _read_json(path)
        if result is None or not result_matches(
            result, info.get("dataset", ""), dataset, extractor
        ):
            continue
        protocol = result["protocol"]
        step = int(protocol["checkpoint"]["step"])
        means = result.get("metrics") or {}
        stds = result.get("metrics_std_over_seeds") or {}
        at_step = progress.get(str(step)) or {}
        row: dict[str, Any] = {
            "protocol": protocol_id(protocol),
            "model": info.get("model"),
            "family": info.get("family"),
            "plugin": info.get("plugin"),
            "plugin_version": versions.get(info.get("plugin") or ""),
            "parameters": info.get("parameters"),
            "step": step,
            "ema": protocol["checkpoint"].get("ema"),
            "train_time_s": at_step.get("elapsed_s", 0.0 if step == 0 else None),
            "device": at_step.get("device"),
            "seeds": max(len((protocol.get("generated") or {}).get("seeds") or []), 1),
            "run": rel_run,
            "result": os.path.relpath(path.resolve(), out_dir.resolve()),
            "_protocol": comparable_protocol(protocol),
        }
        for column, (result_key, _, _) in METRICS.items():
            if column == "bpd":
                row["bpd"] = result.get("bits_per_dim")
                continue
            row[column] = means.get(result_key)
            row[f"{column}_std"] = stds.get(result_key) if result_key in means else None
        grid = _sample_grid(run_dir, step)
        if grid is not None:
            name = f"{run_dir.resolve().name}-{key}-{grid.stem}.png"
            target = out_dir / f"{stem(dataset, extractor)}-samples" / name
            _copy_atomic(grid, target)
            row["sample_grid"] = os.path.relpath(target, out_dir)
        rows.append(row)
    return rows


# ------------------------------------------------------------------ the board


@dataclass
class Board:
    """One leaderboard file set: rows of every protocol, and the protocols themselves."""

    dataset: str
    extractor: str
    rows: list[dict[str, Any]]
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)
    sort: str | None = None

    @property
    def stem(self) -> str:
        return stem(self.dataset, self.extractor)

    def protocol_ids(self) -> list[str]:
        """Protocols with the most rows first, so the main table comes first."""
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row["protocol"]] = counts.get(row["protocol"], 0) + 1
        return sorted(self.protocols, key=lambda pid: (-counts.get(pid, 0), pid))

    def table(self, pid: str, sort: str | None = None, latest_only: bool = False) -> pd.DataFrame:
        """The ranked table of one protocol."""
        frame = pd.DataFrame([r for r in self.rows if r["protocol"] == pid], columns=COLUMNS)
        if latest_only and not frame.empty:
            last = frame.groupby("run")["step"].transform("max")
            frame = frame[frame["step"] == last]
        return rank(frame, sort_metric(frame, sort or self.sort))

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "dataset": self.dataset,
            "extractor": self.extractor,
            "sort": self.sort,
            "protocols": {
                pid: {"description": describe_protocol(p), "protocol": p}
                for pid, p in self.protocols.items()
            },
            "rows": self.rows,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Board:
        protocols = {pid: v["protocol"] for pid, v in (data.get("protocols") or {}).items()}
        return cls(
            data["dataset"],
            data["extractor"],
            list(data.get("rows") or []),
            protocols,
            data.get("sort"),
        )


def sort_metric(frame: pd.DataFrame, requested: str | None) -> str:
    """The metric that ranks ``frame``: the requested one, else the first one it measured."""
    if requested is not None:
        requested = requested.lower()
        if requested not in METRICS:
            raise GanzooError(f"cannot sort by {requested!r}; choose from {', '.join(METRICS)}")
        if frame.empty or frame[requested].notna().any():
            return requested
    for name in DEFAULT_ORDER:
        if not frame.empty and frame[name].notna().any():
            return name
    return requested or "fid"


def rank(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Sorted best first by ``metric`` (its direction is known); unmeasured rows last."""
    lower_better = METRICS[metric][1]
    frame = frame.copy()
    for column in [c for c in COLUMNS if c.endswith("_std") or c in METRICS]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame = frame.sort_values(
        [metric, "model", "run", "step"],
        ascending=[lower_better, True, True, True],
        na_position="last",
        kind="mergesort",
    )
    frame["rank"] = frame[metric].rank(method="min", ascending=lower_better).astype("Int64")
    frame.attrs["sort"] = metric
    return frame.reset_index(drop=True)


def _lock_path(out_dir: Path, name: str) -> Path:
    return out_dir / f".{name}.lock"


@contextlib.contextmanager
def locked(out_dir: Path, name: str) -> Iterator[None]:
    """Exclusive lock for one leaderboard; held while reading sources and writing files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(_lock_path(out_dir, name), "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def load(out_dir: str | Path, dataset: str, extractor: str) -> Board | None:
    data = _read_json(Path(out_dir) / f"{stem(dataset, extractor)}.json")
    return Board.from_dict(data) if data else None


def available(out_dir: str | Path) -> list[Board]:
    """Every leaderboard in ``out_dir``, by file name."""
    boards = []
    for path in sorted(Path(out_dir).glob("*.json")):
        data = _read_json(path)
        if data and data.get("format") == FORMAT and "rows" in data:
            boards.append(Board.from_dict(data))
    return boards


def update(
    out_dir: str | Path,
    dataset: str,
    extractor: str,
    runs: Iterable[str | Path] = (),
    sort: str | None = None,
) -> Board:
    """Add ``runs`` to a leaderboard and rebuild all of it from the runs' result files."""
    out_dir = Path(out_dir)
    name = stem(dataset, extractor)
    versions = _plugin_versions()
    with locked(out_dir, name):
        previous = load(out_dir, dataset, extractor)
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
                    protocols[row["protocol"]] = row.pop("_protocol")
                rows.extend(fresh)
            else:  # the run is gone: its last known rows stay on the board
                rows.extend(old_rows)
        used = {row["protocol"] for row in rows}
        protocols = {pid: p for pid, p in protocols.items() if pid in used}
        board = Board(
            dataset, extractor, rows, protocols, sort or (previous.sort if previous else None)
        )
        ordered = []
        for pid in board.protocol_ids():
            ordered.extend(records(board.table(pid)))
        board.rows = ordered
        write(board, out_dir)
    return board


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records = json.loads(frame.to_json(orient="records"))
    return [{k: v for k, v in r.items() if not (k == "sample_grid" and v is None)} for r in records]


# ------------------------------------------------------------------ output


def write(board: Board, out_dir: Path) -> list[Path]:
    """``<stem>.json`` (the source of truth), ``.csv``, ``.md``, ``.html`` and ``-curves.png``."""
    from .page import render
    from .plot import write_plot
    from .text import to_csv, to_markdown

    plot = out_dir / f"{board.stem}-curves.png"
    write_plot(board, plot)
    texts = {
        ".json": json.dumps(board.as_dict(), indent=2, sort_keys=True) + "\n",
        ".csv": to_csv(board),
        ".md": to_markdown(board, plot_name=plot.name),
        ".html": render(board, out_dir, plot),
    }
    written = []
    for suffix, text in texts.items():
        path = out_dir / f"{board.stem}{suffix}"
        atomic_write_text(path, text)
        written.append(path)
    return [*written, plot]
