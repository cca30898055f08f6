"""Which rows of a board differ beyond the noise of their images, and what N would tell the rest apart.

Reads a board's CSV (one row per run and table, as `ganzoo eval leaderboard`
writes it), orders the model rows of every table by FID, and prints each
neighbouring pair: the gap, whether their bootstrap intervals overlap, and the
number of images at which they would stop overlapping if the gap held and the
intervals shrank as 1/sqrt(N):  N ~ N0 * ((w_a + w_b) / (b - a))^2.  Tables that
differ only in NFE are read together (same reference, images and extractor).

    python scripts/separation.py leaderboards/mnist5k-lenet-mnist.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="a board's .csv file")
    args = parser.parse_args()
    board = pd.read_csv(args.csv)
    rows = board[board["rank"] != "floor"].dropna(subset=["fid_low", "fid_high"])
    rows = rows.assign(label=rows["model"] + " (NFE " + rows["nfe"].astype(int).astype(str) + ")")
    n0 = _num_images(args.csv, board)
    for floor in board[board["rank"] == "floor"].drop_duplicates("fid").itertuples():
        print(f"floor: FID {floor.fid:.3f} [{floor.fid_low:.3f}, {floor.fid_high:.3f}]")
    ordered = list(rows.sort_values("fid").itertuples())
    for row in ordered:
        print(f"{row.label:<24} FID {row.fid:.3f} [{row.fid_low:.3f}, {row.fid_high:.3f}]")
    for a, b in zip(ordered, ordered[1:], strict=False):
        width = (a.fid_high - a.fid_low) / 2 + (b.fid_high - b.fid_low) / 2
        gap = b.fid - a.fid
        apart = "separated" if a.fid_high < b.fid_low else "overlap"
        need = n0 * (width / gap) ** 2 if gap > 0 else float("inf")
        print(f"{a.label} vs {b.label}: gap {gap:.3f}, {apart}, N to separate ~ {need:,.0f}")


def _num_images(csv: Path, board: pd.DataFrame) -> int:
    """The generated images per evaluation, from the board's .json (the same for every table)."""
    tables = json.loads(csv.with_suffix(".json").read_text())["protocols"]
    counts = {t["protocol"]["generated"]["num_images"] for t in tables.values()}
    if len(counts) != 1:
        raise SystemExit(f"the tables of {csv} score different numbers of images: {sorted(counts)}")
    return counts.pop()


if __name__ == "__main__":
    main()
