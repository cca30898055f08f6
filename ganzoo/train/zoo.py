"""``ganzoo zoo``: train every registered model briefly, score each, write the leaderboard.

Budgets are step counts each model declares (``Model.zoo_steps``), so the same
command gives the same checkpoints and the same board on every machine; the
first-party budgets were chosen so the whole zoo, training and scoring, takes
minutes on two CPU cores.  A model that declares none (a plugin that chose not
to) gets as many steps as fit in ``FALLBACK_SECONDS``, measured by a short
probe, and ``--minutes`` asks for that time-based split explicitly.  The trainer's step-0
checkpoint (the untrained model) is scored too, so the board shows how far
training moved each model from its initialisation.

It lives beside the trainer because most of it is training (budgets, the speed
probe, the recipe); the leaderboard package it scores into imports pandas, so
it is imported only inside functions and ``ganzoo zoo --help`` stays fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import check_ranges, option
from ..errors import GanzooError, Terminated, interruption

#: A model that declares no ``zoo_steps`` trains for as many steps as fit in this (measured).
FALLBACK_SECONDS = 120.0
#: Evenly spaced checkpoints per run (plus step 0), each scored: the FID/IS curves.
CHECKPOINTS = 4


@dataclass
class ZooOptions:
    """What ``ganzoo zoo`` trains and scores; its options come from these fields."""

    models: str | None = option(
        None, "Comma-separated model names (default: every registered model)."
    )
    steps: int | None = option(None, "Same step count for every model.", min=1)
    scale: float = option(
        1.0,
        "Multiply each model's own step budget (e.g. 4 for a longer run).",
        min=0,
        min_open=True,
    )
    minutes: float | None = option(
        None,
        "Total training minutes, split evenly (steps measured by a probe; not reproducible).",
        min=0,
        min_open=True,
    )
    out_runs: str = option("runs/zoo", "Where the runs go (one folder per model).", directory=True)
    leaderboards: str | None = option(
        None,
        "Where the leaderboard files go (default: OUT_RUNS/leaderboards, so that a checkout's "
        "committed leaderboards/ stays as it is).",
        directory=True,
    )
    dataset: str = option("mnist5k", "Training and reference dataset.", cli=False)
    extractor: str | None = option(
        None, "Feature extractor (default: the one for the dataset's shape).", cli=False
    )
    num_samples: int | None = option(
        None, "Generated images per evaluation (default: as many as real test images, 500)."
    )
    device: str = option("cpu", "cpu, cuda or auto.")
    tracker: str | None = option(
        None, "Experiment trackers of every run besides metrics.jsonl (as for `ganzoo train`)."
    )
    seed: int = option(0, "Seed of every run (the first seed with --train-seeds).")
    train_seeds: int = option(
        1,
        "Train each model K times, seeds SEED..SEED+K-1 (runs OUT_RUNS/<model>-seed<S>); the "
        "board pools them: mean ± std over the training seeds (ganzoo leaderboard --runs: one "
        "by one).",
        min=1,
        max=100,
        metavar="K",
    )
    reference: bool = option(
        True,
        "Rank the pretrained models trained on the same data beside your runs, from the "
        "numbers on their cards (nothing is scored; `from` says shipped).",
    )
    quiet: bool = option(False, "No training progress bars.", short="-q")
    threads: int | None = option(
        None,
        "CPU threads for torch (default: torch's; on cores shared with other jobs, fewer is "
        "faster).",
        min=1,
    )

    def __post_init__(self) -> None:
        check_ranges(self)  # the same refusals for run_zoo(ZooOptions(...)) as for `ganzoo zoo`
        if self.leaderboards is None:
            self.leaderboards = str(Path(self.out_runs) / "leaderboards")
        if self.steps is not None and self.minutes is not None:
            raise GanzooError("use either --steps or --minutes, not both")

    def model_list(self) -> list[str] | None:
        return [m.strip() for m in self.models.split(",") if m.strip()] if self.models else None


@dataclass
class ZooReport:
    board: Any  # the leaderboard.Board, or None
    failures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    #: The pretrained models ranked beside the runs (``leaderboard.reference``).
    reference: list[str] = field(default_factory=list)


def zoo_models(names: list[str] | None) -> list[str]:
    """Registered model names (aliases and clashing names left out), or the chosen ones."""
    from .. import plugins
    from ..model import model_class

    entries = plugins.registry("register_models")
    if names:
        for name in names:
            model_class(name)  # unknown names: an error with suggestions
        return list(dict.fromkeys(names))
    return [
        name
        for name, reg in sorted(entries.items())
        if not reg.extra.get("alias_of") and not reg.conflicts
    ]


def probe_speed(cls: Any, data: Any, device: str, seed: int, seconds: float = 3.0) -> float:
    """Training steps per second of a default-sized model, from a few throwaway steps."""
    import torch

    from .trainer import Trainer, TrainOptions

    torch.manual_seed(seed)
    model = cls(cls.Config(), data.spec)
    trainer = Trainer(model, data, TrainOptions(steps=1, quiet=True, device=device, log_every=1000))
    trainer.fit()  # warm-up
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < seconds and done < 50:
        trainer.options.steps += 1
        trainer.fit()
        done += 1
    return done / (time.perf_counter() - start)


def steps_for(
    name: str, cls: Any, data: Any, opts: ZooOptions, n_models: int, echo: Callable[[str], None]
) -> int:
    if opts.steps is not None:
        return opts.steps
    if opts.minutes is None and cls.zoo_steps is not None:
        return max(1, round(cls.zoo_steps * opts.scale))
    budget = (
        (opts.minutes * 60 / n_models)
        if opts.minutes is not None
        else FALLBACK_SECONDS * opts.scale
    )
    speed = probe_speed(cls, data, opts.device, opts.seed)
    steps = max(1, int(speed * budget))
    echo(f"  measured {speed:.2f} steps/s: {steps} steps fit in {budget:.0f} s")
    return steps


def train_one(
    name: str, run_dir: Path, steps: int, opts: ZooOptions, echo: Callable[[str], None],
    seed: int | None = None,
) -> None:  # fmt: skip
    """Train (or resume) one model's run to ``steps`` (same run directory: resumed)."""
    from .options import TrainOptions
    from .recipe import train_run

    every = max(1, steps // CHECKPOINTS)
    options = TrainOptions(
        steps=steps, seed=opts.seed if seed is None else seed, device=opts.device,
        checkpoint_every=every,
        sample_every=every, keep_last=0, log_every=max(1, steps // 50), quiet=opts.quiet,
        tracker=opts.tracker,
    )  # fmt: skip
    echo(f"  {steps} steps -> {run_dir}")
    train_run(name, run_dir, options, dataset=opts.dataset)


def run_zoo(opts: ZooOptions, echo: Callable[[str], None] = print) -> ZooReport:
    """Every model trained to its budget and scored, under ``opts.threads`` CPU threads."""
    from ..device import cpu_threads

    with cpu_threads(opts.threads):  # on shared cores fewer threads train several times faster
        return _run_zoo(opts, echo)


def _run_zoo(opts: ZooOptions, echo: Callable[[str], None]) -> ZooReport:
    from .. import leaderboard
    from ..data.registry import load_dataset
    from ..eval.extractors import default_extractor
    from ..eval.request import EvalRequest

    started = time.perf_counter()
    names = zoo_models(opts.model_list())
    if not names:
        raise GanzooError("no models are registered; is GANZOO_LOAD_PLUGINS set?")
    data = load_dataset(opts.dataset, "train")
    spec = data.spec
    extractor = opts.extractor or default_extractor((spec.channels, spec.height, spec.width))
    leaderboard.load(opts.leaderboards, opts.dataset, extractor)  # damaged: stop before training
    request = EvalRequest(
        dataset=opts.dataset, extractor=extractor, num_samples=opts.num_samples, device=opts.device
    )
    report = ZooReport(None)
    for i, name in enumerate(names, 1):
        echo(f"[{i}/{len(names)}] {name}  ({(time.perf_counter() - started) / 60:.1f} min so far)")
        try:
            _one_model(name, data, request, opts, len(names), echo)
        except (KeyboardInterrupt, Terminated) as exc:
            advice = "run the same command again to resume where it stopped"
            raise interruption(exc, advice) from None
        except Exception as exc:  # one broken model must not sink the others
            message = " ".join(f"{type(exc).__name__}: {exc}".split())
            report.failures[name] = message
            echo(f"  FAILED: {message}")
    if opts.reference:
        from ..leaderboard.reference import add_pretrained

        report.reference = add_pretrained(opts.leaderboards, opts.dataset, extractor)
    report.board = leaderboard.load(opts.leaderboards, opts.dataset, extractor)
    report.seconds = time.perf_counter() - started
    return report


def _one_model(
    name: str, data: Any, request: Any, opts: ZooOptions, n_models: int, echo: Callable[[str], None]
) -> None:
    """Train one model to its budget, then score every checkpoint it lacks a result for."""
    from ..leaderboard.refresh import score_and_rebuild
    from ..model import model_class

    steps = steps_for(name, model_class(name), data, opts, n_models, echo)
    indent = lambda s: echo("  " + s)  # noqa: E731
    for seed in range(opts.seed, opts.seed + opts.train_seeds):
        pooled = opts.train_seeds > 1
        run_dir = Path(opts.out_runs) / (f"{name}-seed{seed}" if pooled else name)
        train_one(name, run_dir, steps, opts, echo, seed)
        score_and_rebuild([run_dir], request, opts.leaderboards, echo=indent, all_checkpoints=True)
