"""The sentences that tell a reader how to read a table, shared by Markdown, HTML and the terminal.

A ranked list invites reading every difference as real; these say which rows
are shown, what the brackets and the ± mean, which ranks the data cannot
separate, what the real-data floor is, and which models score better than it.
They are plain text: each renderer escapes them its own way.
"""

from __future__ import annotations

import pandas as pd

from .table import INTERVALS, LABELS, METRICS, Board, is_floor


def view(frame: pd.DataFrame) -> str:
    metric = LABELS[frame.attrs["sort"]]
    views = {
        "final": "One row per run: its latest scored checkpoint "
        "(ganzoo leaderboard --best shows each run's best, --all-checkpoints every one).",
        "best": f"One row per run: its best checkpoint by {metric}, selected on the evaluation "
        "reference itself, so optimistic: the images that chose the checkpoint also score it.",
        "runs": "One row per run: its latest scored checkpoint, runs of several training seeds "
        "one by one.",
        "all": "Every scored checkpoint, one row each.",
    }
    shown = views[frame.attrs.get("view", "final")]
    return shown + _pooled(frame) + _selected(frame) + _kept(frame)


def _pooled(frame: pd.DataFrame) -> str:
    if "train_seeds" not in frame or not frame["train_seeds"].notna().any():
        return ""
    return (
        " Runs that differ only in their training seed are one entry: the mean over the seeds "
        "± their standard deviation, n and the best seed under '± over' (--runs shows them one "
        "by one); an entry has no bootstrap interval and no group."
    )


def _kept(frame: pd.DataFrame) -> str:
    hidden = frame.attrs.get("kept_hidden", 0)
    if not hidden:
        return ""
    return (
        f" Left out: {hidden} run(s) that were not here when the board was last rebuilt "
        "(their rows are kept, e.g. the reference training runs of a committed board); "
        "--all-checkpoints shows them."
    )


def _selected(frame: pd.DataFrame) -> str:
    if "selected" not in frame or not frame["selected"].notna().any():
        return ""
    return (
        " A step marked (selected) is the checkpoint in-loop evaluation scored best "
        "(--checkpoint best): chosen on the evaluation reference, so optimistic."
    )


def spread(frame: pd.DataFrame) -> str | None:
    """Which number is the bootstrap interval and which the spread over seeds: not the same thing."""
    seeds = (
        "± s, shown when several sampling seeds were scored, is the standard deviation over "
        "those seeds"
    )
    pooled = "train_seeds" in frame and frame["train_seeds"].notna().any()
    if pooled:
        seeds += (
            "; an entry pooling runs of several training seeds shows their mean ± the standard "
            "deviation over those runs ('± over' says which)"
        )
    if any(frame[f"{m}_low"].notna().any() for m in INTERVALS):
        return (
            "A number reads value [low, high] ± s: [low, high] is the bootstrap 95% interval "
            f"(the compared images resampled and the number recomputed); {seeds}, a different "
            "spread."
        )
    if pooled or (pd.to_numeric(frame["seeds"], errors="coerce").fillna(1) > 1).any():
        return f"A number reads value ± s: {seeds}."
    return None


def groups(frame: pd.DataFrame) -> str:
    metric = frame.attrs["sort"]
    label = LABELS[metric]
    grouped = frame["group"].notna()
    if grouped.any():
        column = f"{metric}_boot"
        kept = frame[column][grouped].map(lambda v: isinstance(v, list)) if column in frame else []
        rule = (
            f"whose paired {label} difference to the leader has a 95% interval containing 0 "
            "(paired bootstrap: the same real images resampled for both)"
            if len(kept) and all(kept)
            else f"whose {label} interval overlaps the leader's"
            if not any(kept)
            else f"whose paired {label} difference to the leader has a 95% interval containing "
            "0 (the overlap of the two intervals where a result kept no replicates)"
        )
        return (
            f"Group: the leader and every row {rule} form group 1; the same rule on the "
            "remaining rows gives group 2, and so on. Rows of one group are not told apart by "
            "these images; a row without an interval has no group."
        )
    if metric in INTERVALS:
        return f"No rank groups: no row has a {label} interval (results scored before intervals)."
    return f"No rank groups: {label} has no bootstrap interval."


def floor(board: Board, pid: str) -> str:
    entry = board.floors.get(pid) or {}
    if "description" in entry:
        return (
            f"Floor: {entry['description']}, scored exactly as a model's samples are: the best "
            "score a model can expect with this many images and this extractor. It is not ranked."
        )
    if "missing" in entry:
        return f"No real-data floor: {entry['missing']}."
    return "No real-data floor yet: ganzoo eval leaderboard scores it."


def beats_floor(frame: pd.DataFrame) -> list[bool]:
    """For each row: a model that scores better than held-out real images on the ranking metric."""
    metric = frame.attrs["sort"]
    lines = [r[metric] for _, r in frame.iterrows() if is_floor(r)]
    if not lines or pd.isna(lines[0]):
        return [False] * len(frame)
    line, lower = lines[0], METRICS[metric][1]
    return [
        not is_floor(row)
        and not pd.isna(row[metric])
        and bool(row[metric] < line if lower else row[metric] > line)
        for _, row in frame.iterrows()
    ]


def above_floor(frame: pd.DataFrame) -> list[str]:
    """A sentence for each model row that scores better than held-out real images."""
    metric = frame.attrs["sort"]
    label, fmt = LABELS[metric], METRICS[metric][2]
    line = next((r[metric] for _, r in frame.iterrows() if is_floor(r)), None)
    return [
        f"Above the floor: {row['model']} ({row['run']}, step {int(row['step'])}) has "
        f"{label} {fmt.format(row[metric])}, better than real data's {fmt.format(line)}: "
        "expect noise at this sample size, or memorised training images."
        for beats, (_, row) in zip(beats_floor(frame), frame.iterrows(), strict=True)
        if beats
    ]
