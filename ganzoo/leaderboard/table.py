"""What a leaderboard is: its rows, its protocols, and how one protocol's table is ranked.

Numbers are ranked together only when their *comparable protocol* is equal: the
recorded protocol minus what does not change a number's meaning (checkpoint
step, software versions, batch size, device, where the weights came from, which
metrics were measured).  How a model drew its images is the row's: its
``sampling`` settings and ``nfe`` are columns, so a diffusion model at 50 and at
250 steps and a GAN rank in one table.
``collect`` turns the runs' result files into rows and ``store`` reads and
writes the board files.

A rank alone overstates what a few hundred images can tell apart, so each
table also carries rank *groups* (rows whose bootstrap intervals overlap the
leader's) and, where one was scored, the real-data *floor* (``floor``): a row
that is never ranked, placed where its number falls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import GanzooError
from ..eval.paired import difference
from ..eval.protocol import comparable_protocol, protocol_id  # noqa: F401  (one id everywhere)
from .protocols import describe_protocol, upgrade  # noqa: F401  (one description)
from .seeds import pool

FORMAT = 1

#: column -> (result key, lower is better, display format)
METRICS: dict[str, tuple[str, bool, str]] = {
    "fid": ("frechet_inception_distance", True, "{:.2f}"),
    "is": ("inception_score_mean", False, "{:.2f}"),
    "kid": ("kernel_inception_distance_mean", True, "{:.4f}"),
    "precision": ("precision", False, "{:.3f}"),
    "recall": ("recall", False, "{:.3f}"),
    "density": ("density", False, "{:.3f}"),
    "coverage": ("coverage", False, "{:.3f}"),
    "cmmd": ("cmmd", True, "{:.4f}"),
    "copy_rate": ("copy_rate", True, "{:.3f}"),
    "bpd": ("bits_per_dim", True, "{:.3f}"),
    "fid_inf": ("fid_infinity", True, "{:.2f}"),
    "intra_fid": ("intra_fid", True, "{:.2f}"),
    "accuracy": ("classification_accuracy", False, "{:.3f}"),
    "class_tv": ("class_histogram_tv", True, "{:.3f}"),
}
#: Metrics whose result files carry a bootstrap interval (columns ``<metric>_low``/``_high``).
INTERVALS = ("fid", "kid", "precision", "recall", "density", "coverage", "cmmd", "copy_rate")
#: Which metric ranks a table when none is asked for (the first one the protocol measured).
DEFAULT_ORDER = ("fid", "fid_inf", "kid", "is", "bpd", "precision", "recall", "intra_fid")
DEFAULT_ORDER += ("coverage", "density", "cmmd", "accuracy", "class_tv", "copy_rate")
#: Which rows a table shows: each run's latest checkpoint (runs that differ only in their
#: training seed pooled into one entry), its best one, each run's latest unpooled, or every one.
VIEWS = ("final", "best", "runs", "all")
LABELS = {
    "fid": "FID",
    "fid_inf": "FID∞",
    "is": "IS",
    "kid": "KID",
    "precision": "precision",
    "recall": "recall",
    "density": "density",
    "coverage": "coverage",
    "cmmd": "CMMD",
    "copy_rate": "copy rate",
    "bpd": "bits/dim",
    "intra_fid": "intra-FID",
    "accuracy": "accuracy",
    "class_tv": "class TV",
}
COLUMNS = [
    "protocol", "rank", "group", "model", "family", "plugin", "plugin_version", "parameters",
    "step", "ema", "selected", "train_time_s", "device", "seeds", "nfe", "sampling", "sample_s",
    "is", "is_std", "fid", "fid_std", "fid_low", "fid_high", "fid_inf", "fid_inf_std",
    "kid", "kid_std", "kid_low", "kid_high",
    "precision", "precision_std", "precision_low", "precision_high",
    "recall", "recall_std", "recall_low", "recall_high",
    "density", "density_std", "density_low", "density_high",
    "coverage", "coverage_std", "coverage_low", "coverage_high",
    "cmmd", "cmmd_std", "cmmd_low", "cmmd_high",
    "copy_rate", "copy_rate_std", "copy_rate_low", "copy_rate_high", "bpd",
    "intra_fid", "intra_fid_std", "accuracy", "accuracy_std", "class_tv", "class_tv_std",
    "run", "sample_grid", "result", "copies_grid", "copy_distances", "copy_threshold", "kept",
    "source", "recipe", "train_seed", "train_seeds", "best_seed",
]  # fmt: skip
#: Columns a row has only when measured (kept out of the board's JSON otherwise).
OPTIONAL = ("sample_grid", "copies_grid", "copy_distances", "copy_threshold", "selected", "kept")
OPTIONAL += ("recipe", "train_seed", "train_seeds", "best_seed")
#: Each paired metric's bootstrap replicates (lists, from the result file): the board's JSON
#: keeps them for the paired rank groups; CSV, Markdown, HTML and the terminal never show them.
REPLICATES = tuple(f"{m}_boot" for m in INTERVALS if m != "copy_rate")
#: The rank shown for the real-data floor, which is never ranked.
FLOOR_RANK = "floor"


def stem(dataset: str, extractor: str) -> str:
    """``<dataset>-<extractor>``, made safe as a file name (``folder:PATH`` datasets included)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in dataset).strip("_.")
    return f"{safe or 'data'}-{extractor}"


# ------------------------------------------------------------------ the board


@dataclass
class Board:
    """One leaderboard file set: rows of every protocol, and the protocols themselves."""

    dataset: str
    extractor: str
    rows: list[dict[str, Any]]
    protocols: dict[str, dict[str, Any]] = field(default_factory=dict)
    sort: str | None = None
    #: protocol id -> {"description", "row"} of its real-data floor, or {"missing": why not}.
    floors: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        return stem(self.dataset, self.extractor)

    def protocol_ids(self) -> list[str]:
        """Protocols with the most rows first, so the main table comes first."""
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row["protocol"]] = counts.get(row["protocol"], 0) + 1
        return sorted(self.protocols, key=lambda pid: (-counts.get(pid, 0), pid))

    def table(
        self, pid: str, sort: str | None = None, view: str = "final", floor: bool = False
    ) -> pd.DataFrame:
        """The ranked table of one protocol; ``floor`` adds the real-data floor row, unranked.

        Ranks and groups are those among the rows shown: a run's earlier
        checkpoints hidden by the view do not push other runs down.
        """
        rows = [r for r in self.rows if r["protocol"] == pid]
        frame = pd.DataFrame(rows, columns=[*COLUMNS, *REPLICATES])
        metric = sort_metric(frame, sort or self.sort)
        shown = select(rank(frame, metric), view)
        runs = frame["run"][frame["kept"].eq(True)]
        hidden = runs[~runs.isin(shown["run"])].nunique()
        if view in ("final", "best"):
            shown = pool(shown, list(METRICS), metric)
        frame = rank(shown, metric)
        if floor and self.floor_row(pid) is not None:
            frame = with_floor(frame, self.floor_row(pid), metric)
        frame.attrs.update(sort=metric, view=view, kept_hidden=int(hidden))
        return frame

    def floor_row(self, pid: str) -> dict[str, Any] | None:
        row = (self.floors.get(pid) or {}).get("row")
        return row if isinstance(row, dict) else None

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
            "floors": {pid: f for pid, f in self.floors.items() if pid in self.protocols},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Board:
        protocols = {pid: v["protocol"] for pid, v in (data.get("protocols") or {}).items()}
        floors = data.get("floors") if isinstance(data.get("floors"), dict) else {}
        floors = {pid: f for pid, f in floors.items() if isinstance(f, dict)}
        rows, protocols, floors = upgrade(list(data.get("rows") or []), protocols, floors)
        return cls(data["dataset"], data["extractor"], rows, protocols, data.get("sort"), floors)


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


NUMERIC = [c for c in COLUMNS if c.endswith(("_std", "_low", "_high")) or c in METRICS]
NUMERIC.append("nfe")


def rank(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Sorted best first by ``metric`` (its direction is known); unmeasured rows last."""
    lower_better = METRICS[metric][1]
    frame = frame.copy()
    for column in NUMERIC:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame = frame.sort_values(
        [metric, "model", "run", "step"],
        ascending=[lower_better, True, True, True],
        na_position="last",
        kind="mergesort",
    ).reset_index(drop=True)
    frame["rank"] = frame[metric].rank(method="min", ascending=lower_better).astype("Int64")
    frame["group"] = pd.array(rank_groups(frame, metric), dtype="Int64")
    frame.attrs["sort"] = metric
    return frame


def rank_groups(frame: pd.DataFrame, metric: str) -> list[int | None]:
    """Group of each row of a ranked ``frame``: rows the ranking metric cannot tell apart.

    The best remaining row with an interval leads the next group, and every
    remaining row joins it whose paired difference to the leader has a 95%
    interval containing 0 (``eval.paired``: both rows' result files kept
    replicates), or, where either row's result has none (scored before
    replicates were kept), whose interval overlaps the leader's.  A row without
    an interval (older results, metrics without one) gets no group.
    """
    groups: list[int | None] = [None] * len(frame)
    if metric not in INTERVALS or frame.empty:
        return groups
    value, low, high = (frame[c].tolist() for c in (metric, f"{metric}_low", f"{metric}_high"))
    boot = frame[f"{metric}_boot"].tolist() if f"{metric}_boot" in frame else [None] * len(frame)
    left = [i for i in range(len(frame)) if not pd.isna(value[i]) and not pd.isna(low[i])
            and not pd.isna(high[i])]  # fmt: skip

    def together(i: int, lead: int) -> bool:
        a, b = boot[i], boot[lead]  # replicates that pair up: lists of one length
        if i != lead and isinstance(a, list) and isinstance(b, list) and len(a) == len(b) > 0:
            delta, _ = difference(METRICS[metric][0], value[i], value[lead], boot[i], boot[lead])
            return delta[0] <= 0 <= delta[1]
        return low[i] <= high[lead] and low[lead] <= high[i]

    group = 0
    while left:
        group += 1
        members = [i for i in left if together(i, left[0])]
        for i in members:
            groups[i] = group
        left = [i for i in left if i not in members]
    return groups


def select(frame: pd.DataFrame, view: str) -> pd.DataFrame:
    """One row per run and sampling setting of a ranked ``frame`` (its final or its best
    checkpoint), or every row.

    Rows kept from runs that were gone at the last rebuild (a committed board's
    reference training runs, a deleted run) are left out of the final and best
    views while the table has rows of runs that are here: the shipped models
    scored from ``leaderboards/pretrained/`` are those same runs' final checkpoints.
    """
    if view not in VIEWS:
        raise GanzooError(f"unknown leaderboard view {view!r}; choose from {', '.join(VIEWS)}")
    if view == "all" or frame.empty:
        return frame
    kept = frame["kept"].eq(True)
    if not kept.all():  # rows of runs that are here: those kept from gone runs wait for --all
        frame = frame[~kept]
    # A run scored under several sampling settings has a row per setting.
    settings = frame["sampling"].map(lambda v: v if isinstance(v, str) else "")
    key = frame["run"].astype(str) + "\0" + settings
    if view in ("final", "runs"):
        frame = frame[frame["step"] == frame.groupby(key)["step"].transform("max")]
        key = key[frame.index]
    return frame[~key.duplicated(keep="first")]  # ranked: the first is the best


def with_floor(frame: pd.DataFrame, floor: dict[str, Any], metric: str) -> pd.DataFrame:
    """``frame`` with the floor row placed where its number falls, its rank ``floor``."""
    rows = [*frame.to_dict("records"), {**floor, "rank": FLOOR_RANK, "group": None}]
    out = pd.DataFrame(rows, columns=[*COLUMNS, *REPLICATES])
    for column in NUMERIC:
        out[column] = pd.to_numeric(out[column], errors="coerce")
    out["rank"] = out["rank"].astype(object).where(out["rank"].notna(), None)
    out["group"] = out["group"].astype("Int64")
    out = out.sort_values(  # stable: the ranked rows keep their order
        metric, ascending=METRICS[metric][1], na_position="last", kind="mergesort"
    )
    return out.reset_index(drop=True)


def is_floor(row: pd.Series | dict[str, Any]) -> bool:
    return isinstance(row["rank"], str) and row["rank"] == FLOOR_RANK


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records = json.loads(frame.to_json(orient="records"))
    left_out = (*OPTIONAL, *REPLICATES)  # only when measured
    return [{k: v for k, v in r.items() if not (k in left_out and v is None)} for r in records]
