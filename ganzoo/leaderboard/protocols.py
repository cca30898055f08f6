"""A board's protocols: one per table, merged from its rows', and older boards brought up to date.

Rows share a table when their protocol ids are equal, although the results
behind them may have measured different metrics (one with density/coverage and
memorization, one without).  The table's protocol is then the union of what its
rows measured, so its description lists every metric it has a column for, and
its real-data floor is scored for all of them.

A board written before sampling settings left the comparable protocol holds,
for the rows of runs that are gone (committed reference rows), ids that split
one model's step counts into tables of their own.  Their stored comparable
protocols are enough to recompute today's ids (``comparable_protocol`` is
idempotent) and the sampling column, so such a board is read as if rebuilt:
no number changes, nothing is rescored.
"""

from __future__ import annotations

import json
from typing import Any

from ..eval.protocol import comparable_protocol, protocol_id, sampling_text


def merge_measured(table: dict[str, Any] | None, result: dict[str, Any]) -> dict[str, Any]:
    """``table``'s protocol with what ``result`` measured besides (metrics, layers, settings)."""
    if table is None:
        return json.loads(json.dumps(result))
    merged = json.loads(json.dumps(table))
    metrics = merged.setdefault("metrics", [])
    metrics += [m for m in result.get("metrics") or [] if m not in metrics]
    layers = (result.get("extractor") or {}).get("layers")
    if isinstance(layers, dict) and isinstance(merged.get("extractor"), dict):
        merged["extractor"]["layers"] = {**layers, **(merged["extractor"].get("layers") or {})}
    if isinstance(result.get("settings"), dict):
        merged["settings"] = {**result["settings"], **(merged.get("settings") or {})}
    if result.get("training") and not merged.get("training"):
        merged["training"] = result["training"]
    return merged


def _metric_count(floor: dict[str, Any]) -> int:
    row = floor.get("row")
    return sum(v is not None for v in row.values()) if isinstance(row, dict) else -1


def upgrade(
    rows: list[dict[str, Any]],
    protocols: dict[str, dict[str, Any]],
    floors: dict[str, dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Rows, protocols and floors of a stored board under today's protocol ids.

    A row keeps its numbers; it gains the ``sampling`` text its old protocol
    recorded.  Of several floors that now belong to one table, the one that
    measured the most is kept.
    """
    renamed: dict[str, str] = {}
    merged: dict[str, dict[str, Any]] = {}
    for old, protocol in protocols.items():
        new = renamed[old] = protocol_id(protocol)
        merged[new] = merge_measured(merged.get(new), comparable_protocol(protocol))
    out_rows = []
    for row in rows:
        old = row.get("protocol")
        if old in renamed:
            drawn = ((protocols[old].get("generated") or {}).get("sampling_settings")) or None
            row = {**row, "protocol": renamed[old]}
            if "sampling" not in row:
                row["sampling"] = sampling_text(drawn)
        out_rows.append(row)
    out_floors: dict[str, dict[str, Any]] = {}
    for old, floor in floors.items():
        new = renamed.get(old, old)
        held = out_floors.get(new)
        if held is None or _metric_count(floor) > _metric_count(held):
            out_floors[new] = _renamed(floor, new)
    return out_rows, merged, out_floors


def _renamed(floor: dict[str, Any], pid: str) -> dict[str, Any]:
    row = floor.get("row")
    return {**floor, "row": {**row, "protocol": pid}} if isinstance(row, dict) else floor


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
    names = {"isc": "IS", "fid": "FID", "fid_inf": "FID∞", "kid": "KID", "prc": "precision/recall"}
    names |= {"dc": f"density/coverage (k={(p.get('settings') or {}).get('dc_neighborhood')})"}
    names |= {
        "mem": f"memorization (vs {(p.get('training') or {}).get('dataset')} training images)"
    }
    names |= {"cmmd": f"CMMD (sigma={((p.get('settings') or {}).get('cmmd') or {}).get('sigma')})"}
    names |= {"ifid": "intra-FID", "cls": "class accuracy/histogram"}
    metrics = ", ".join(names.get(m, m) for m in p.get("metrics") or [])
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
