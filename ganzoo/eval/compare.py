"""``ganzoo compare A B`` as a library call: two targets scored under one request, then paired.

A run whose stored result already answers the request (the rule ``ganzoo eval
leaderboard`` uses to skip a checkpoint, ``leaderboard.refresh.is_scored``) and
kept paired replicates is reused, never encoded again; anything else is
evaluated.  Nothing is written until both are scored and found comparable, so
a refused comparison leaves every run as it was.  The same target twice is a
model compared with a second, independent draw of itself (the next sampling
seeds): what "no difference" looks like at these sizes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import option
from ..errors import GanzooError
from .request import EvalRequest


@dataclass(kw_only=True)
class CompareOptions:
    """The output's form (how to score is the ``EvalRequest``)."""

    as_json: bool = option(False, "The paired differences and both results as JSON.", flag="--json")


@dataclass
class Side:
    """One of the two compared: what was given, its result (as stored), and where it came from."""

    target: str
    result: dict[str, Any]
    #: The stored result file reused; None when it was scored now.
    reused: Path | None = None
    #: The fresh ``EvalResult`` (None when reused): written once the comparison stands.
    fresh: Any = None
    written: Path | None = None

    def describe(self) -> str:
        seeds = (self.result["protocol"].get("generated") or {}).get("seeds") or []
        drawn = f", sampling seed{'s' if len(seeds) > 1 else ''} {_span(seeds)}" if seeds else ""
        if self.reused is not None:
            return f"{self.target} (its stored result {self.reused}{drawn})"
        kept = f"; written to {self.written}" if self.written else ""
        return f"{self.target} (scored now{drawn}{kept})"


@dataclass
class Comparison:
    """A and B, and their paired differences (``paired.Paired``)."""

    a: Side
    b: Side
    paired: Any
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        counts = self.paired.compared
        ids = sorted(set(self.paired.protocol_ids))
        lines = [f"A: {self.a.describe()}", f"B: {self.b.describe()}"]
        lines += [
            f"protocol {' and '.join(ids)}: {counts['generated']} generated images each vs "
            f"{counts['real']} real images, {self.paired.resamples} paired bootstrap replicates",
            *self.paired.lines(),
            "  [low, high]: 95% interval of A-B from the paired bootstrap (the real images "
            "resampled alike for A and B, the generated ones independently)",
        ]
        return lines + self.notes

    def as_dict(self) -> dict[str, Any]:
        sides = {
            name: {
                "target": side.target,
                "reused": str(side.reused) if side.reused else None,
                "written_to": str(side.written) if side.written else None,
                "result": side.result,
            }
            for name, side in (("a", self.a), ("b", self.b))
        }
        return {**sides, "paired": self.paired.as_dict(), "notes": self.notes}


def compare(a: Any, b: Any, request: EvalRequest | None = None, **options: Any) -> Comparison:
    """Score ``a`` and ``b`` (anything ``ganzoo.evaluate`` takes by name) under one request and
    return their paired differences; ``options`` are ``EvalRequest`` fields, as for ``evaluate``.
    """
    from .paired import paired

    base = dataclasses.asdict(request) if request is not None else {}
    request = EvalRequest.of({**base, **options})
    request.check()
    for target in (a, b):
        _check_exists(target)
    same = _same(a, b)
    if same and _is_fixed_images(a):
        raise GanzooError(
            f"A and B are the same fixed images ({a}): there is no second draw of them; compare "
            "two models, a model with itself (drawn twice), or two different sets of images"
        )
    second = request
    if same:
        second = dataclasses.replace(request, seed=request.seed + request.seeds)
    first_side, second_side = _side(a, request), _side(b, second)
    comparison = paired(first_side.result, second_side.result)  # refused: nothing written
    notes = []
    if same:
        notes.append(
            f"  A and B are the same target: B was drawn with sampling "
            f"seed{'s' if second.seeds > 1 else ''} "
            f"{_span(list(range(second.seed, second.seed + second.seeds)))}, a second, "
            "independent draw of the same model (its result is not written: it would replace A's)"
        )
    for side in (first_side, second_side) if not same else (first_side,):
        if side.fresh is not None:
            side.written = side.fresh.keep()
    return Comparison(first_side, second_side, comparison, notes)


def _span(seeds: list[int]) -> str:
    return f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0])


def _check_exists(target: Any) -> None:
    """A TARGET that names nothing fails before either side is scored."""
    from ..load.target import missing, what
    from .sources import SAMPLES

    if isinstance(target, str | Path) and what(target).kind == "missing":
        raise missing(what(target), also=SAMPLES)


def _same(a: Any, b: Any) -> bool:
    if not isinstance(a, str | Path) or not isinstance(b, str | Path):
        return a is b
    return str(a) == str(b) or Path(a).resolve() == Path(b).resolve()


def _side(target: Any, request: EvalRequest) -> Side:
    """A stored result of a run that answers ``request``, else a fresh evaluation (unwritten)."""
    from .api import evaluate

    name = str(target)
    found = stored(Path(target), request) if isinstance(target, str | Path) else None
    if found is not None:
        return Side(name, found[1], reused=found[0])
    result = evaluate(target, request, write=False)
    return Side(name, result.as_dict(), fresh=result)


def _is_fixed_images(target: Any) -> bool:
    from ..load.target import what

    return isinstance(target, str | Path) and not what(target).names_a_model


def stored(run_dir: Path, request: EvalRequest) -> tuple[Path, dict[str, Any]] | None:
    """(path, result) of the run's result that answers ``request`` at its latest checkpoint and
    kept replicates drawn as this ganzoo draws them; None if there is none (or no run)."""
    from ..leaderboard.refresh import expected_metrics, is_scored, run_info, target_of
    from ..leaderboard.results import run_results
    from ..load.target import what
    from ..sampling.draw import stored_settings
    from ..train.checkpoint import list_checkpoints
    from .extractors import get_extractor
    from .replicates import settings

    if what(run_dir).kind != "run" or not (run_dir / "run.json").is_file():
        return None
    steps = list_checkpoints(run_dir / "checkpoints")
    if not steps:
        return None
    dataset, extractor = target_of(run_dir, request)
    metrics = expected_metrics(extractor, dataset, request)
    revision = get_extractor(extractor).revision
    sampling = stored_settings(run_info(run_dir), request.sampling_overrides)
    for path, result in run_results(run_dir):
        protocol = result["protocol"]
        if not is_scored(
            result, steps[-1][0], dataset, extractor, metrics, request, sampling, revision
        ):
            continue
        if request.ema is not None and (protocol.get("checkpoint") or {}).get("ema") != request.ema:
            continue
        bootstrap = (protocol.get("settings") or {}).get("bootstrap")
        if result.get("bootstrap_replicates") and bootstrap == settings():
            return path, result
    return None
