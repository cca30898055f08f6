"""The real-data floor of a protocol: held-out real images scored exactly as a model's samples are.

Two sets of real images do not score FID 0 at a few hundred images; what they
do score is the best a model can expect at that sample count and extractor, so
a table shows it as an unranked row, and a model above it is suspect (noise at
this N, or memorised training images).  The held-out images are as many as
the protocol generates, a fixed-seed random subset of real images disjoint
from the reference: the train split for a test reference, the test split for a
train reference, else the reference split's images outside the reference
subset.  No image whose bytes equal a reference image is ever used.

Scoring costs as much as scoring a model, so each floor is computed once, by
``ganzoo eval leaderboard``, and cached in ``OUT/floors/<protocol id>.json``
(also when there is no disjoint data, with the reason); showing a board only
reads it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import GanzooError, warn
from ..eval.protocol import identity
from ..eval.request import EvalRequest
from ..files.write import atomic_write_text
from .collect import metric_columns, read_json
from .table import Board

FORMAT = 1
#: Seed of the random subset of held-out images.
SEED = 0
MODEL = "real data (floor)"


def floor_path(out_dir: Path, pid: str) -> Path:
    return out_dir / "floors" / f"{pid}.json"


def is_protocol_id(pid: Any) -> bool:
    """A board's protocol keys come from its JSON: only a hex id may become a file name."""
    return isinstance(pid, str) and re.fullmatch(r"[0-9a-f]{6,64}", pid) is not None


def read_floor(
    out_dir: Path, pid: str, protocol: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The cached floor of ``pid``; None when absent or unusable (it is recomputed, never trusted).

    Given the table's ``protocol``, a floor cached under an id of an earlier
    rule (before sampling settings and the metric list left the id) counts too
    when its own scoring matches the table's: of several, the one that measured most.
    """
    found = _cached(floor_path(out_dir, pid), pid)
    if found is None and protocol is not None:
        found = _carried_over(out_dir, pid, protocol)
    return found


def _cached(path: Path, pid: str | None) -> dict[str, Any] | None:
    if pid is not None and not is_protocol_id(pid):
        return None
    data = read_json(path)
    if data is None or data.get("format") != FORMAT:
        return None
    if pid is not None and data.get("protocol_id") != pid:
        return None
    if isinstance(data.get("missing"), str):
        return data
    ok = isinstance(data.get("result"), dict) and isinstance(data.get("description"), str)
    return data if ok else None


def _carried_over(out_dir: Path, pid: str, protocol: dict[str, Any]) -> dict[str, Any] | None:
    best: dict[str, Any] | None = None
    for path in sorted((out_dir / "floors").glob("*.json")):
        data = _cached(path, None)
        scored = ((data or {}).get("result") or {}).get("protocol")
        if not isinstance(scored, dict) or differences(identity(scored), identity(protocol)):
            continue
        if best is None or len(scored.get("metrics") or []) > len(
            best["result"]["protocol"].get("metrics") or []
        ):
            best = data
    return None if best is None else {**best, "protocol_id": pid}


def entries(out_dir: Path, protocols: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What each protocol's table shows of its floor, from the cache only."""
    found = {}
    for pid, protocol in protocols.items():
        cached = read_floor(out_dir, pid, protocol)
        if cached is None:
            continue
        if "missing" in cached:
            found[pid] = {"missing": cached["missing"]}
            continue
        rel = floor_path(Path("."), pid).as_posix()
        row = {"protocol": pid, "model": MODEL, "seeds": 1, "run": rel, "result": rel}
        columns = metric_columns(cached["result"])
        # The floor's images are real, training images for a test reference: their copy rate
        # (1 by construction) is no bound for a model's, so the floor shows none.
        columns |= {f"copy_rate{s}": None for s in ("", "_std", "_low", "_high")}
        found[pid] = {"description": cached["description"], "row": row | columns}
    return found


def ensure(board: Board, out_dir: Path, request: EvalRequest, echo: Callable[[str], None]) -> bool:
    """Score and cache the floor of every protocol of ``board`` that has none; True if any was."""
    added = False
    for pid, protocol in board.protocols.items():
        if not is_protocol_id(pid):
            warn(
                f"no real-data floor for protocol {pid!r}: the board names it, but it is not an id"
            )
            continue
        cached = read_floor(out_dir, pid, protocol)
        if cached is not None:
            if not floor_path(out_dir, pid).exists():  # carried over: cached under today's id
                text = json.dumps(cached, indent=2, sort_keys=True) + "\n"
                atomic_write_text(floor_path(out_dir, pid), text)
            continue
        echo(f"scoring the real-data floor of protocol {pid} ...")
        try:
            floor = compute(pid, protocol, request)
        except GanzooError as exc:
            warn(f"no real-data floor for protocol {pid}: {exc}")
            continue
        if floor is not None:
            text = json.dumps(floor, indent=2, sort_keys=True) + "\n"
            atomic_write_text(floor_path(out_dir, pid), text)
            added = True
    return added


def compute(pid: str, protocol: dict[str, Any], request: EvalRequest) -> dict[str, Any] | None:
    """The floor file's content; None (with a warning) when it would not be this protocol's."""
    import ganzoo

    found = held_out(protocol, request.data_root)
    if isinstance(found, str):
        return {"format": FORMAT, "protocol_id": pid, "missing": found}
    images, held = found
    asked = ganzoo.EvalRequest.from_protocol(
        protocol,
        device=request.device,
        batch_size=request.batch_size,
        extractor_weights=request.extractor_weights,
        data_root=request.data_root,
        sampling=(),  # real images are not drawn: the table's sampler settings do not apply
    )
    result = ganzoo.evaluate(images, asked, write=False)
    differ = differences(identity(result.protocol), identity(protocol))
    if differ:
        warn(
            f"real-data floor of protocol {pid} not kept: it was scored with another "
            f"{', '.join(differ)} here than the table's"
        )
        return None
    ref = protocol["reference"]
    note = ", outside the reference subset" if held["split"] == ref["split"] else ""
    description = (
        f"{held['num_images']} real {held['dataset']}:{held['split']} images "
        f"(a random subset, seed {SEED}{note}) vs the {ref['num_images']} "
        f"{ref['dataset']}:{ref['split']} reference images"
    )
    return {
        "format": FORMAT,
        "protocol_id": pid,
        "held_out": held,
        "description": description,
        "result": result.as_dict(),
    }


def differences(scored: dict[str, Any], table: dict[str, Any]) -> list[str]:
    """Parts of the protocol in which the floor's scoring differs from the table's.

    How images were generated (source, seeds, chunks) cannot apply to real
    images; only their number must match.
    """
    keys = sorted((set(scored) | set(table)) - {"generated"})
    differ = [k for k in keys if scored.get(k) != table.get(k)]
    count = (table.get("generated") or {}).get("num_images")
    if (scored.get("generated") or {}).get("num_images") != count:
        differ.append("number of images")
    return differ


def _digest(image: Any) -> bytes:
    return hashlib.sha256(image.numpy().tobytes()).digest()


def held_out(protocol: dict[str, Any], data_root: str | None) -> tuple[Any, dict[str, Any]] | str:
    """(images, what they are) disjoint from the reference, or why there are none."""
    import torch

    from ..data.registry import load_dataset
    from ..eval.refcache import Reference

    ref, count = protocol.get("reference"), (protocol.get("generated") or {}).get("num_images")
    if not ref or not count:
        return "this protocol compares with no real reference images"
    dataset, split = ref["dataset"], ref["split"]
    ext = protocol.get("extractor") or {}
    limit = ref["num_images"] if ref.get("subset_seed") is not None else None
    reference = Reference(dataset, split, ext.get("name"), ext.get("weights_sha256"),
                          ext.get("resize"), ext.get("revision", 1), limit, data_root)  # fmt: skip
    taken = {_digest(image) for image in reference.images}
    shortfalls = []
    for other in [s for s in ("train", "test") if s != split and split != "all"] + [split]:
        images = load_dataset(dataset, other, data_root=data_root).images
        keep = [i for i, image in enumerate(images) if _digest(image) not in taken]
        if len(keep) < count:
            shortfalls.append(f"{dataset}:{other} has {len(keep)} images outside the reference")
            continue
        order = torch.randperm(len(keep), generator=torch.Generator().manual_seed(SEED))
        chosen = torch.tensor(keep)[order[:count]].sort().values
        return images[chosen], {
            "dataset": dataset, "split": other, "num_images": count, "seed": SEED,
        }  # fmt: skip
    return f"no {count} real images disjoint from the reference are left: " + "; ".join(shortfalls)
