"""``ganzoo train``: a model trained into a run directory (``ganzoo.train.recipe``)."""

from __future__ import annotations

from typing import Any

import click

from ..train.options import TrainOptions
from ..train.spec import RunSpec
from .launch import LaunchOptions, command_line, relaunched
from .options import options_from, pop_options


@click.command("train")
@options_from(RunSpec)
@options_from(TrainOptions)
@options_from(LaunchOptions)
def train_cmd(**options: Any) -> None:
    """Train a model; running the same command again with the same --out resumes it.

    On several processes: --nproc N here, or torchrun --nproc-per-node N -m ganzoo train
    ... (also across machines); --batch-size stays the global batch (docs/distributed.md).
    """
    from ..dist.world import launched
    from ..errors import GanzooError, Terminated, interruption
    from ..train.checks import check_batch_split
    from ..train.recipe import train_run

    spec = pop_options(RunSpec, options)
    train_options = pop_options(TrainOptions, options)
    nproc = pop_options(LaunchOptions, options).nproc
    hyperparameters = spec.hyperparameters()
    if train_options.batch_size is not None:  # before any worker starts
        check_batch_split(train_options.batch_size, nproc)
    worker_argv = command_line()
    if not spec.out and nproc > 1:  # every worker must name the same directory
        spec.out = str(spec.run_dir())
        worker_argv = [*worker_argv, "--out", spec.out]
    if not spec.out and not spec.name and launched():
        raise GanzooError(
            "under torchrun give --out or --name: every process must name the same run directory"
        )
    if relaunched(nproc, worker_argv):
        return
    run_dir = spec.run_dir()
    try:
        result = train_run(
            spec.model, run_dir, train_options, **spec.data(), hyperparameters=hyperparameters
        )
    except (KeyboardInterrupt, Terminated) as exc:
        advice = f"run the same command again to resume from the last checkpoint in {run_dir}"
        raise interruption(exc, advice) from None
    early = f" (stopped early: {result.stopped})" if result.stopped else ""
    click.echo(
        f"done: step {result.step}{early}, {result.elapsed_s:.1f}s of training, "
        f"checkpoint {result.checkpoint}, samples in {run_dir / 'samples'}"
    )
