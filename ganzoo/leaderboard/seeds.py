"""Training-seed spread: runs that differ only in their seed are one entry of a table.

Retraining a model with another seed moves its FID more than drawing other
images from it does, so one run's number overstates what is known about a
recipe.  Runs whose model, hyperparameters, data and training options are
equal (their *recipe*, hashed from ``run.json``) and that were scored at the
same step, with the same weights (EMA or not) and sampling settings, are pooled
into one entry: the mean of each metric, its standard deviation over the
training seeds, n, and the best seed named.  ``ganzoo leaderboard --runs``
shows the runs one by one.

Three spreads can stand beside a number and they are never mixed up: the
bootstrap interval (other images from the same model), ``± s`` over sampling
seeds (``ganzoo eval --seeds K``), and ``± s`` over training seeds (here).
A pooled entry has no bootstrap interval and so no rank group.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd

#: Training options that change what a run learns (the rest: where and how verbosely it ran).
RECIPE_OPTIONS = ("steps", "batch_size", "amp", "amp_dtype", "ema", "ema_decay", "ema_start")
RECIPE_OPTIONS += ("grad_clip",)


def recipe(info: dict[str, Any]) -> str | None:
    """Short hash of what a run trained, its seed left out; None without a model name."""
    if not isinstance(info.get("model"), str):
        return None
    options = info.get("options") if isinstance(info.get("options"), dict) else {}
    key = {
        "model": info["model"],
        "hyperparameters": info.get("hyperparameters"),
        "dataset": info.get("dataset"),
        "split": info.get("split"),
        "options": {name: options.get(name) for name in RECIPE_OPTIONS},
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]


def pool(frame: pd.DataFrame, metrics: list[str], metric: str) -> pd.DataFrame:
    """``frame`` (ranked, one row per run) with each recipe's runs of several seeds pooled."""
    if frame.empty or frame["recipe"].isna().all():
        return frame
    key = [frame[c].astype(str).fillna("") for c in ("recipe", "step", "ema", "sampling")]
    groups = frame.groupby(key, sort=False, dropna=False)
    out = []
    for _, group in groups:
        seeds = group["train_seed"].dropna().unique()
        if group["recipe"].isna().any() or len(group) < 2 or len(seeds) != len(group):
            out.extend(group.to_dict("records"))
            continue
        out.append(_entry(group, metrics, metric))
    return pd.DataFrame(out, columns=frame.columns)


def _entry(group: pd.DataFrame, metrics: list[str], metric: str) -> dict[str, Any]:
    """One entry for a recipe: mean ± std over training seeds; the best seed's run and grid."""
    best = group.iloc[0].to_dict()  # the frame is ranked: its first row is the best seed's
    entry = dict(best)
    for name in metrics:
        values = pd.to_numeric(group[name], errors="coerce").dropna()
        entry[name] = float(values.mean()) if len(values) else None
        entry[f"{name}_std"] = float(values.std(ddof=1)) if len(values) > 1 else None
        for side in ("_low", "_high", "_boot"):
            if f"{name}{side}" in entry:
                entry[f"{name}{side}"] = None  # a bootstrap interval is one run's, not the mean's
    entry["train_time_s"] = pd.to_numeric(group["train_time_s"], errors="coerce").mean()
    entry["train_seeds"] = len(group)
    value = best.get(metric)
    entry["best_seed"] = f"seed {int(best['train_seed'])}" + (
        f": {value:.4g}" if pd.notna(value) else ""
    )
    return entry
