"""What a leaderboard is: its rows, its protocols, and how one protocol's table is ranked.

Numbers are ranked together only when their *comparable protocol* is equal: the
recorded protocol minus what does not change a number's meaning (checkpoint
step, software versions, batch size, device, where the weights came from).
``collect`` turns the runs' result files into rows and ``store`` reads and
writes the board files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import GanzooError
from ..eval.protocol import comparable_protocol, protocol_id  # noqa: F401  (one id everywhere)

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


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records = json.loads(frame.to_json(orient="records"))
    return [{k: v for k, v in r.items() if not (k == "sample_grid" and v is None)} for r in records]
