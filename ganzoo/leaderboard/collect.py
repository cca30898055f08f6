"""Leaderboard rows from a run's own files: ``run.json``, ``progress.json`` and ``eval/*.json``.

A row is never typed in: it is always re-derived from the result file it
cites, so deleting a result file removes its row at the next update.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from ..eval.protocol import result_key as result_identity
from ..eval.protocol import sampling_settings, sampling_text
from ..files.read import JSON_LIMIT, Refused, read_png, read_regular
from ..files.write import atomic_write
from .copies import gallery_columns
from .results import run_results, scored_model
from .seeds import recipe
from .table import INTERVALS, METRICS, REPLICATES, comparable_protocol, protocol_id, stem


def read_json(path: Path, folder: Path | None = None) -> dict[str, Any] | None:
    """A run's file, or None: an unreadable result loses its own row, it never stops a rebuild.

    Read as ``files.read.read_regular`` reads: a FIFO, a device, a file over the
    size limit or (given ``folder``) one resolving outside it counts as unreadable.
    """
    try:
        data = json.loads(read_regular(path, JSON_LIMIT, folder, "the run directory"))
    except (OSError, Refused, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def plugin_versions() -> dict[str, str | None]:
    """Installed version of each plugin entry point (read from metadata: no plugin is imported)."""
    import importlib.metadata

    from ..plugins import GROUP

    return {
        ep.name: ep.dist.version if ep.dist else None
        for ep in importlib.metadata.entry_points(group=GROUP)
    }


def result_target(result: dict[str, Any], run_dataset: str) -> tuple[str, str] | None:
    """(dataset, extractor) of a result's board; one rule for collecting rows and for --rebuild."""
    protocol = result.get("protocol") or {}
    if protocol.get("checkpoint") is None:
        return None
    ref = protocol.get("reference")
    return (ref.get("dataset") if ref else run_dataset), (protocol.get("extractor") or {}).get(
        "name"
    )


def result_matches(result: dict[str, Any], run_dataset: str, dataset: str, extractor: str) -> bool:
    return result_target(result, run_dataset) == (dataset, extractor)


def _sample_grid(run_dir: Path, step: int) -> Path | None:
    """The grid drawn at ``step``, else the run's newest (a symlink counts: it is checked later)."""
    exact = run_dir / "samples" / f"step-{step:08d}.png"
    if os.path.lexists(exact):
        return exact
    grids = sorted((run_dir / "samples").glob("step-*.png"))
    return grids[-1] if grids else None


def _write_grid(data: bytes, dst: Path) -> None:
    """The checked bytes go to the board, never the path: a file swapped since is not copied."""
    with atomic_write(dst) as fh:
        fh.write(data)


def _results(
    run_dir: Path, run_dataset: str, dataset: str, extractor: str
) -> list[tuple[Path, dict[str, Any]]]:
    """The run's results for this board, one per checkpoint and protocol id.

    Result files written before files were named by (checkpoint, protocol id)
    may hold the same result twice; the newest one counts.
    """
    newest: dict[Any, tuple[Path, dict[str, Any]]] = {}
    for path, result in run_results(run_dir):
        if not result_matches(result, run_dataset, dataset, extractor):
            continue
        key = result_identity(result)
        held = newest.get(key)
        if held is None or _mtime(path) >= _mtime(held[0]):
            newest[key] = (path, result)
    return sorted(newest.values(), key=lambda found: found[0].name)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def _interval(bounds: Any) -> tuple[float | None, float | None]:
    numbers = isinstance(bounds, list | tuple) and len(bounds) == 2
    if numbers and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds):
        return float(bounds[0]), float(bounds[1])
    return None, None


def metric_columns(result: dict[str, Any]) -> dict[str, Any]:
    """Means, spread over seeds and bootstrap interval of each metric of one result file.

    Files written before intervals existed have none; their rows simply have
    no ``_low``/``_high`` and so no rank group.
    """
    means = result.get("metrics") or {}
    stds = result.get("metrics_std_over_seeds") or {}
    intervals = result.get("intervals") if isinstance(result.get("intervals"), dict) else {}
    row: dict[str, Any] = {"bpd": result.get("bits_per_dim")}
    for column, (key, _, _) in METRICS.items():
        if column == "bpd":
            continue
        row[column] = means.get(key)
        row[f"{column}_std"] = stds.get(key) if key in means else None
        if column in INTERVALS:
            bounds = _interval(intervals.get(key)) if key in means else (None, None)
            row[f"{column}_low"], row[f"{column}_high"] = bounds
        if f"{column}_boot" in REPLICATES:
            row[f"{column}_boot"] = _replicates(result, key) if key in means else None
    return row


def _replicates(result: dict[str, Any], key: str) -> list[float] | None:
    """A metric's bootstrap replicates when drawn as this ganzoo pairs them (``eval.replicates``)."""
    from ..eval.replicates import settings

    bootstrap = ((result.get("protocol") or {}).get("settings") or {}).get("bootstrap")
    kept = result.get("bootstrap_replicates")
    values = kept.get(key) if isinstance(kept, dict) and bootstrap == settings() else None
    ok = isinstance(values, list) and all(_number(v) is not None for v in values)
    return [float(v) for v in values] if ok and values else None


def _number(value: Any) -> float | None:
    """A finite number, else None (results before sampling was timed, or a damaged file)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _row(
    result: dict[str, Any], info: dict[str, Any], progress: dict[str, Any],
    versions: dict[str, str | None],
) -> dict[str, Any]:  # fmt: skip
    """One row of a checked result; the model is the one the result says was scored."""
    protocol = result["protocol"]
    step = protocol["checkpoint"]["step"]
    at_step = _dict(progress.get(str(step)))
    model = scored_model(result, info)
    return {
        "protocol": protocol_id(protocol),
        **model,
        "plugin_version": versions.get(model["plugin"] or ""),
        "step": step,
        "ema": protocol["checkpoint"].get("ema"),
        "selected": _text(protocol["checkpoint"].get("selected")),
        "train_time_s": at_step.get("elapsed_s", 0.0 if step == 0 else None),
        "device": at_step.get("device"),
        "seeds": max(len((protocol.get("generated") or {}).get("seeds") or []), 1),
        "nfe": ((protocol.get("generated") or {}).get("sampling") or {}).get("nfe"),
        "sampling": sampling_text(sampling_settings(protocol)),
        "sample_s": _number(_dict(result.get("sampling_time")).get("seconds_per_image")),
        # Where the row comes from: a shipped model scored through its stand-in run, or a run.
        "source": "shipped" if isinstance(info.get("pretrained"), dict) else "run",
        "recipe": recipe(info),
        "train_seed": info.get("seed") if isinstance(info.get("seed"), int) else None,
        "_protocol": comparable_protocol(protocol),
        **metric_columns(result),
    }


def collect_run(
    run_dir: Path, out_dir: Path, dataset: str, extractor: str, versions: dict[str, str | None]
) -> list[dict[str, Any]]:
    """Rows of one run: one per (checkpoint, protocol) result for this dataset and extractor.

    A row's sample grid is copied only when it is a PNG inside the run directory
    (``files.read.read_png``); otherwise the row keeps its numbers, without a picture.
    """
    info = read_json(run_dir / "run.json", run_dir) or {}
    progress = _dict(_dict(read_json(run_dir / "progress.json", run_dir)).get("checkpoints"))
    rel_run = os.path.relpath(run_dir.resolve(), out_dir.resolve())
    key = hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:8]
    grids: dict[Path, bytes | None] = {}  # each grid checked (and warned about) once
    rows = []
    for path, result in _results(run_dir, info.get("dataset", ""), dataset, extractor):
        row = _row(result, info, progress, versions)
        row["run"] = rel_run
        row["result"] = os.path.relpath(path.resolve(), out_dir.resolve())
        grid = _sample_grid(run_dir, row["step"])
        if grid is not None and grid not in grids:
            grids[grid] = read_png(grid, run_dir, "sample grid", "the run directory")
        if grid is not None and grids[grid] is not None:
            name = f"{run_dir.resolve().name}-{key}-{grid.stem}.png"
            target = out_dir / f"{stem(dataset, extractor)}-samples" / name
            _write_grid(grids[grid], target)
            row["sample_grid"] = os.path.relpath(target, out_dir)
        name = f"{run_dir.resolve().name}-{key}-{path.stem}-copies.png"
        target = out_dir / f"{stem(dataset, extractor)}-samples" / name
        row.update(gallery_columns(result, path, target, out_dir))
        rows.append(row)
    return rows
