"""``ganzoo eval TARGET`` as a library call: which checkpoints of TARGET to score.

``EvalRequest`` says how to score (the protocol); ``ScoreOptions`` says what
of TARGET and how the numbers are shown.  Each field is also an option of
``ganzoo eval`` (``ganzoo.commands.options``).  No torch until it scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import option
from ..errors import ConfigError
from .request import EvalRequest


@dataclass(kw_only=True)
class ScoreOptions:
    """The checkpoints of a run to score, and the output's form."""

    checkpoint: int | str | None = option(
        None,
        "Checkpoint step of a run, or best: the one in-loop evaluation kept (default: latest).",
        checkpoint=True,
    )
    all_checkpoints: bool = option(False, "Every checkpoint of a run: a curve.")
    as_json: bool = option(False, "Numbers and protocol as JSON on stdout.", flag="--json")

    def __post_init__(self) -> None:
        if self.all_checkpoints and self.checkpoint is not None:
            raise ConfigError("use either --checkpoint or --all-checkpoints, not both")


def score(target: str | Path, request: EvalRequest, options: ScoreOptions) -> list[Any]:
    """Each chosen checkpoint of ``target`` scored under ``request``: a list of ``EvalResult``."""
    from .api import evaluate, evaluate_all_checkpoints

    if options.all_checkpoints:
        return evaluate_all_checkpoints(target, request)
    return [evaluate(target, request, checkpoint=options.checkpoint)]


def as_json(results: list[Any], options: ScoreOptions) -> dict[str, Any] | list[dict[str, Any]]:
    """What ``--json`` prints: each result's numbers and protocol, and where it was written."""
    data = [r.as_dict() for r in results]
    for item, result in zip(data, results, strict=True):
        item["written_to"] = str(result.path) if result.path else None
    return data if options.all_checkpoints else data[0]
