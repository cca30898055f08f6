"""``ganzoo eval leaderboard`` as a library call: score what the boards lack, then rebuild them.

``EvalRequest`` is the protocol; ``ScoringOptions`` says which runs, which
checkpoints and which boards.  Each field is also an option of ``ganzoo eval
leaderboard`` (``ganzoo.commands.options``).  Neither torch nor pandas is
imported until boards are updated (``leaderboard.refresh`` does the work).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import option
from ..errors import GanzooError
from ..eval.request import EvalRequest
from .view import SORT_METRICS


@dataclass(kw_only=True)
class ScoringOptions:
    """Which runs' checkpoints are scored, and where the boards are."""

    runs: str | None = option(None, "Every run below DIR.", directory=True, metavar="DIR")
    all_checkpoints: bool = option(False, "Score every checkpoint, not only the latest.")
    sort: str | None = option(
        None,
        "Rank by this metric (default: FID when measured).",
        choices=SORT_METRICS,
        case_sensitive=False,
    )
    out: str = option("leaderboards", "Where the boards are written.", directory=True)
    rebuild: bool = option(
        False,
        "Recover damaged boards in OUT: move each aside (.damaged) and rebuild it from the "
        "runs' results; scores nothing.",
    )


def score_boards(
    run_dirs: Sequence[str | Path],
    request: EvalRequest,
    options: ScoringOptions,
    echo: Callable[[str], None] = print,
) -> list[Any]:
    """Score every run (checkpoint) lacking a result under ``request``, then rebuild its boards;
    with ``rebuild``, recover the damaged boards from the runs' results instead.  The boards."""
    from .refresh import find_runs, rebuild_damaged, score_and_rebuild

    if not run_dirs and options.runs is None:
        raise GanzooError("give run directories (RUN_DIR ...) or --runs DIR")
    runs = find_runs(run_dirs, options.runs, options.out)
    if options.rebuild:
        return rebuild_damaged(runs, request, options.out, sort=options.sort, echo=echo)
    return score_and_rebuild(
        runs, request, options.out, options.sort, echo, options.all_checkpoints
    )
