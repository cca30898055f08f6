"""``ganzoo zoo``: train every registered model briefly, score each, write the leaderboard.

Budgets are step counts per model (reproducible: the same command gives the
same checkpoints); they were chosen so the whole zoo, training and
``lenet-mnist`` scoring, takes under 15 minutes on two CPU cores.  A model this
table does not know (a new plugin) gets as many steps as fit in
``FALLBACK_SECONDS``, measured by a short probe.  The trainer's step-0
checkpoint (the untrained model) is scored too, so the board shows how far
training moved each model from its initialisation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import leaderboard
from .errors import GanzooError, Terminated, interruption

#: Default training steps per model on mnist5k: about 100 s each on one free CPU core.
ZOO_STEPS = {"gan": 3000, "dcgan": 2000, "wgan-gp": 800, "vae": 1000}
FALLBACK_SECONDS = 120.0
#: Evenly spaced checkpoints per run (plus step 0), each scored: the FID/IS curves.
CHECKPOINTS = 4


@dataclass
class ZooOptions:
    models: list[str] | None = None
    out_runs: Path = Path("runs/zoo")
    leaderboards: Path = Path("leaderboards")
    steps: int | None = None  # same count for every model
    scale: float = 1.0  # multiplies the default table
    minutes: float | None = None  # total training time, split evenly (measured, not reproducible)
    dataset: str = "mnist5k"
    extractor: str = "lenet-mnist"
    num_samples: int | None = None
    device: str = "cpu"
    seed: int = 0
    quiet: bool = False


@dataclass
class ZooReport:
    board: leaderboard.Board | None
    failures: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def zoo_models(names: list[str] | None) -> list[str]:
    """Registered model names (aliases and clashing names left out), or the chosen ones."""
    from . import plugins
    from .model import model_class

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

    from .train.trainer import Trainer, TrainOptions

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
    if opts.minutes is None and name in ZOO_STEPS:
        return max(1, round(ZOO_STEPS[name] * opts.scale))
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
    name: str, run_dir: Path, steps: int, data: Any, opts: ZooOptions, echo: Callable[[str], None]
) -> None:
    """Train (or resume) one model's run to ``steps`` (same run directory: resumed)."""
    import torch

    from .model import model_class
    from .train import run as run_mod
    from .train.trainer import Trainer, TrainOptions

    cls = model_class(name)
    every = max(1, steps // CHECKPOINTS)
    options = TrainOptions(
        steps=steps, batch_size=cls.default_batch_size, seed=opts.seed, device=opts.device,
        checkpoint_every=every, sample_every=every, keep_last=0, log_every=max(1, steps // 50),
        quiet=opts.quiet,
    )  # fmt: skip
    torch.manual_seed(opts.seed)
    model = cls(cls.Config(), data.spec)
    trainer = Trainer(model, data, options, run_dir=run_dir, run_info={"dataset": opts.dataset})
    run_mod.check_resumable(run_dir, trainer.run_info)
    echo(f"  {model.num_parameters():,} parameters, {steps} steps -> {run_dir}")
    trainer.fit()


def run_zoo(opts: ZooOptions, echo: Callable[[str], None] = print) -> ZooReport:
    from .data.registry import load_dataset
    from .leaderboard.refresh import Request, score_and_rebuild
    from .model import model_class

    started = time.perf_counter()
    names = zoo_models(opts.models)
    if not names:
        raise GanzooError("no models are registered; is GANZOO_LOAD_PLUGINS set?")
    data = load_dataset(opts.dataset, "train")
    leaderboard.load(
        opts.leaderboards, opts.dataset, opts.extractor
    )  # damaged: stop before training
    request = Request(
        dataset=opts.dataset,
        extractor=opts.extractor,
        num_samples=opts.num_samples,
        device=opts.device,
        all_checkpoints=True,
    )
    report = ZooReport(None)
    for i, name in enumerate(names, 1):
        elapsed = time.perf_counter() - started
        echo(f"[{i}/{len(names)}] {name}  ({elapsed / 60:.1f} min so far)")
        run_dir = opts.out_runs / name
        try:
            cls = model_class(name)
            steps = steps_for(name, cls, data, opts, len(names), echo)
            train_one(name, run_dir, steps, data, opts, echo)
            score_and_rebuild([run_dir], request, opts.leaderboards, echo=lambda s: echo("  " + s))
        except (KeyboardInterrupt, Terminated) as exc:
            raise interruption(
                exc, "run the same command again to resume where it stopped"
            ) from None
        except Exception as exc:  # one broken model must not sink the others
            message = " ".join(f"{type(exc).__name__}: {exc}".split())
            report.failures[name] = message
            echo(f"  FAILED: {message}")
    report.board = leaderboard.load(opts.leaderboards, opts.dataset, opts.extractor)
    report.seconds = time.perf_counter() - started
    return report
