"""Score the checkpoints a leaderboard lacks, and only those.

"Already scored" is decided by the result files: a checkpoint counts as scored
when ``RUN/eval/`` holds a result for that step whose protocol matches the
request (dataset, split, extractor, metrics, sample counts, seeds, KID subset).
Versions and batch size are not compared, so upgrading ganzoo does not
re-score everything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import GanzooError, warn
from ..eval.request import EvalRequest
from ..files.read import JSON_LIMIT, Refused, each_warning_once, read_regular
from ..pretrained.asrun import stands_for
from ..sampling.draw import stored_settings
from . import floor, store
from .collect import result_target
from .results import run_results
from .table import LABELS, METRICS, Board, stem


def find_runs(
    run_dirs: Iterable[str | Path] = (),
    runs_root: str | Path | None = None,
    out_dir: str | Path | None = None,
) -> list[Path]:
    """RUN_DIR arguments plus every run (a folder with ``run.json``) below ``--runs``.

    A model folder or pretrained name among the arguments stands on the board
    through a small run directory kept in ``out_dir`` (``ganzoo.pretrained.asrun``).
    """
    from ..load.target import what

    found: list[Path] = []
    for run in run_dirs:
        path = Path(run)
        if out_dir is not None and what(run).is_model_folder:
            from ..pretrained.asrun import as_run

            found.append(as_run(run, out_dir))
            continue
        if not (path / "run.json").is_file():
            raise GanzooError(
                f"{str(path)!r} is not a run directory (no run.json), a model folder or a "
                "pretrained name; train it first"
            )
        found.append(path)
    if runs_root is not None:
        root = Path(runs_root)
        if not root.is_dir():
            raise GanzooError(f"--runs {str(root)!r} is not a directory")
        below = sorted(p.parent for p in root.rglob("run.json"))
        if not below:
            raise GanzooError(f"no run directories (with run.json) below {str(root)!r}")
        found.extend(below)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def run_info(run_dir: Path) -> dict[str, Any]:
    """``run.json``, read as ``files.read`` reads a run's files (a FIFO there never hangs)."""
    path = run_dir / "run.json"
    try:
        info = json.loads(read_regular(path, JSON_LIMIT, run_dir, "the run directory"))
    except Refused as exc:
        raise GanzooError(f"{path} cannot be read: {exc.reason}") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise GanzooError(f"{path} cannot be read ({exc})") from None
    if not isinstance(info, dict):
        raise GanzooError(f"{path} is a JSON {type(info).__name__}, not a run's information")
    return info


def target_of(run_dir: Path, request: EvalRequest) -> tuple[str, str]:
    """(dataset, extractor) of the leaderboard a run goes to under ``request``."""
    from ..eval.extractors import default_extractor

    info = run_info(run_dir)
    dataset = request.dataset or info.get("dataset") or "mnist5k"
    spec = info.get("spec") or {}
    shape = (spec.get("channels"), spec.get("height"), spec.get("width"))
    return dataset, request.extractor or default_extractor(shape)


def expected_metrics(extractor: str, dataset: str, request: EvalRequest) -> tuple[str, ...]:
    from ..eval.metrics import expected

    return expected(extractor, dataset, request.metrics, request.extractor_weights)


def is_scored(
    result: dict[str, Any],
    step: int,
    dataset: str,
    extractor: str,
    metrics: tuple[str, ...],
    request: EvalRequest,
    sampling: dict[str, Any] | None = None,
    revision: int = 1,
) -> bool:
    """Whether ``result`` is this checkpoint's under ``request`` (``sampling``: the settings
    its images must have been drawn with, from ``ganzoo.sampling.draw.stored_settings``;
    ``revision``: the extractor's current one, so a result of an older revision is redone)."""
    p = result.get("protocol") or {}
    if (p.get("checkpoint") or {}).get("step") != step:
        return False
    used = p.get("extractor") or {}
    if used.get("name") != extractor or used.get("revision", 1) != revision:
        return False
    if tuple(p.get("metrics") or ()) != metrics:
        return False
    ref = p.get("reference")
    if ref is not None:
        if ref.get("dataset") != dataset or ref.get("split") != request.reference_split:
            return False
        if request.num_real is not None and ref.get("num_images") != request.num_real:
            return False
        if request.num_real is None and ref.get("subset_seed") is not None:
            return False
    gen = p.get("generated") or {}
    if gen.get("seeds") != list(range(request.seed, request.seed + request.seeds)):
        return False
    if sampling is not None and (gen.get("sampling") or {}).get("settings") != sampling:
        return False
    wanted = request.num_samples or (ref.get("num_images") if ref else 1000)
    if gen.get("num_images") != wanted:
        return False
    settings = p.get("settings") or {}
    return not (
        request.kid_subset_size is not None
        and settings.get("kid_subset_size") != request.kid_subset_size
    )


def pending(
    run_dirs: list[Path], request: EvalRequest, all_checkpoints: bool = False
) -> list[tuple[Path, int]]:
    """(run, checkpoint step) pairs that have no result under ``request`` yet."""
    from ..eval.extractors import get_extractor
    from ..train.checkpoint import list_checkpoints

    todo = []
    #: (extractor, dataset) -> the metrics a result must hold and the extractor's revision
    expected: dict[tuple[str, str], tuple[tuple[str, ...], int]] = {}
    for run_dir in run_dirs:
        dataset, extractor = target_of(run_dir, request)
        if (extractor, dataset) not in expected:
            metrics = expected_metrics(extractor, dataset, request)
            expected[extractor, dataset] = metrics, get_extractor(extractor).revision
        chosen, revision = expected[extractor, dataset]
        sampling = stored_settings(run_info(run_dir), request.sampling_overrides)
        stand_in = stands_for(run_info(run_dir))
        steps = (
            [stand_in["step"]]
            if stand_in
            else [step for step, _ in list_checkpoints(run_dir / "checkpoints")]
        )
        if not steps:
            warn(f"{run_dir} has no checkpoints; skipped")
            continue
        results = [result for _, result in run_results(run_dir)]
        for step in steps if all_checkpoints else steps[-1:]:
            if not any(
                is_scored(r, step, dataset, extractor, chosen, request, sampling, revision)
                for r in results
            ):
                todo.append((run_dir, step))
    return todo


def _groups(run_dirs: list[Path], request: EvalRequest) -> dict[tuple[str, str], list[Path]]:
    groups: dict[tuple[str, str], list[Path]] = {}
    for run_dir in run_dirs:
        groups.setdefault(target_of(run_dir, request), []).append(run_dir)
    return dict(sorted(groups.items()))


@each_warning_once()
def score_and_rebuild(
    run_dirs: list[Path],
    request: EvalRequest,
    out_dir: str | Path,
    sort: str | None = None,
    echo: Callable[[str], None] = print,
    all_checkpoints: bool = False,
) -> list[Board]:
    """Evaluate what is missing, then rebuild every leaderboard the runs belong to.

    A damaged checkpoint is skipped and reported; the rest are scored and ranked.
    Each table's real-data floor is scored once, after the models, and cached.
    """
    groups = _groups(run_dirs, request)
    for dataset, extractor in groups:  # a damaged board stops us before any scoring
        store.load(out_dir, dataset, extractor)
    todo = pending(run_dirs, request, all_checkpoints)
    echo(f"{len(todo)} checkpoint(s) to score, the rest already scored under this protocol")
    damaged = []
    for i, (run_dir, step) in enumerate(todo, 1):
        echo(f"[{i}/{len(todo)}] scoring {run_dir} step {step} ...")
        if not _score(run_dir, step, request, echo):
            damaged.append(f"{run_dir} step {step}")
    if damaged:
        warn(f"{len(damaged)} damaged checkpoint(s) skipped: {'; '.join(damaged)}")
    boards = []
    for (dataset, extractor), runs in groups.items():
        board = store.update(out_dir, dataset, extractor, runs, sort=sort)
        # The protocols are known once the board is rebuilt; a new floor means one more
        # rebuild, under the lock again, so that no concurrent update is overwritten.
        if floor.ensure(board, Path(out_dir), request, echo):
            board = store.update(out_dir, dataset, extractor, runs, sort=sort)
        boards.append(board)
    return boards


def _score(run_dir: Path, step: int, request: EvalRequest, echo: Callable[[str], None]) -> bool:
    """Score one checkpoint (its result lands in RUN/eval/); False when it is damaged."""
    from ..eval.api import evaluate
    from ..train.checkpoint import CheckpointError

    dataset, extractor = target_of(run_dir, request)
    try:
        # The split is the request's, decided before the run's own dataset fills in.
        split = request.reference_split
        asked = replace(request, dataset=dataset, extractor=extractor, split=split)
        stand_in = stands_for(run_info(run_dir))
        if stand_in:  # a model folder: scored as itself, its result kept in the stand-in
            result = evaluate(stand_in["source"], asked, write=False)
            result.write(run_dir)
        else:
            result = evaluate(run_dir, asked, checkpoint=step)
    except CheckpointError as exc:
        warn(f"skipping {exc}")
        return False
    numbers = ", ".join(
        f"{LABELS[col]} {result.metrics[key]:.4g}"
        for col, (key, _, _) in METRICS.items()
        if key in result.metrics
    )
    echo(f"        {extractor}: {numbers}")
    return True


def _run_targets(run_dir: Path) -> set[tuple[str, str]]:
    run_dataset = run_info(run_dir).get("dataset") or ""
    return {t for _, r in run_results(run_dir) if (t := result_target(r, run_dataset))}


def result_groups(run_dirs: list[Path], request: EvalRequest) -> dict[tuple[str, str], list[Path]]:
    """Runs by the boards their results belong to, under any protocol: a rebuild scores nothing."""
    groups: dict[tuple[str, str], list[Path]] = {}
    for run_dir in run_dirs:
        for dataset, extractor in _run_targets(run_dir):
            if request.dataset in (None, dataset) and request.extractor in (None, extractor):
                groups.setdefault((dataset, extractor), []).append(run_dir)
    return dict(sorted(groups.items()))


@each_warning_once()
def rebuild_damaged(
    run_dirs: list[Path],
    request: EvalRequest,
    out_dir: str | Path,
    sort: str | None = None,
    echo: Callable[[str], None] = print,
) -> list[Board]:
    """Move each damaged board in ``out_dir`` aside, rebuild it from the runs' results, score nothing.

    Only the runs' own result files are trusted, so rows of runs that no longer
    exist are lost (the damaged file keeps them); intact boards are left alone.
    """
    _, damaged = store.scan(out_dir)
    if not damaged:
        echo(f"no damaged leaderboard in {out_dir}; nothing rebuilt")
        return []
    groups = result_groups(run_dirs, request)
    by_stem = {stem(*key): key for key in groups}
    boards = []
    for exc in damaged:
        key = by_stem.get(exc.path.stem)
        if key is None:
            warn(f"{exc.path} stays damaged: no result of these runs belongs to it")
            continue
        boards.append(store.update(out_dir, *key, groups[key], sort, rebuild=True, echo=echo))
    return boards
