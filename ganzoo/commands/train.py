"""``ganzoo train``: a model trained into a run directory (``ganzoo.train.recipe``)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..train.options import TrainOptions
from .launch import command_line, nproc_option, relaunched
from .options import options_from, pop_options


@click.command("train")
@click.option(
    "--model", "-m", "model_name", required=True, help="Model name (see `ganzoo models`)."
)
@click.option(
    "--dataset",
    "-d",
    default="mnist5k",
    show_default=True,
    help="Dataset name or folder:PATH / npz:PATH.",
)
@click.option("--split", default="train", show_default=True, type=click.Choice(["train", "all"]))
@click.option(
    "--data-root", type=click.Path(file_okay=False), help="Where file-based datasets live."
)
@click.option("--download", is_flag=True, help="Allow torchvision datasets to download.")
@click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE", help="Set a hyperparameter (repeatable)."
)
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="TOML file of hyperparameters."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    callback=lambda ctx, param, value: _folder(value),
    help="Run directory; reusing one resumes it. Default: runs/<model>-<dataset>-<time>.",
)
@click.option(
    "--name",
    callback=lambda ctx, param, value: _plain_name(value),
    help="Run name used in the default --out instead of the time (letters, digits, . _ -).",
)
@options_from(TrainOptions)
@nproc_option
def train_cmd(model_name, dataset, split, data_root, download, sets, config_file, out, name,
              nproc, **options) -> None:  # fmt: skip
    """Train a model; running the same command again with the same --out resumes it.

    On several processes: --nproc N here, or torchrun --nproc-per-node N -m ganzoo train
    ... (also across machines); --batch-size stays the global batch (docs/distributed.md).
    """
    from .. import config as config_mod
    from ..dist.world import launched
    from ..errors import GanzooError, Terminated, interruption
    from ..model import model_class
    from ..train import run as run_mod
    from ..train.checks import check_batch_split
    from ..train.recipe import train_run

    train_options = pop_options(TrainOptions, options)
    hyperparameters = config_mod.resolve(model_class(model_name).Config, sets, config_file)
    if train_options.batch_size is not None:  # before any worker starts
        check_batch_split(train_options.batch_size, nproc)
    worker_argv = command_line()
    if not out and nproc > 1:  # every worker must name the same directory
        out = str(run_mod.default_run_dir(model_name, dataset, name))
        worker_argv = [*worker_argv, "--out", out]
    if not out and not name and launched():
        raise GanzooError(
            "under torchrun give --out or --name: every process must name the same run directory"
        )
    if relaunched(nproc, worker_argv):
        return
    run_dir = Path(out) if out else run_mod.default_run_dir(model_name, dataset, name)
    try:
        result = train_run(
            model_name, run_dir, train_options, dataset=dataset, split=split,
            data_root=data_root, download=download, hyperparameters=hyperparameters,
        )  # fmt: skip
    except (KeyboardInterrupt, Terminated) as exc:
        advice = f"run the same command again to resume from the last checkpoint in {run_dir}"
        raise interruption(exc, advice) from None
    click.echo(
        f"done: step {result.step}, {result.elapsed_s:.1f}s of training, "
        f"checkpoint {result.checkpoint}, samples in {run_dir / 'samples'}"
    )


def _folder(value: str | None) -> str | None:
    """An empty ``--out`` would silently train into a generated folder: say so instead."""
    if value is not None and not value.strip():
        raise click.BadParameter("must name a folder; leave --out out for runs/<model>-...")
    return value


def _plain_name(value: str | None) -> str | None:
    """``--name`` is one folder name under runs/: ``../x`` or ``a/b`` would leave it."""
    if value is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
        raise click.BadParameter(
            f"{value!r} is not a plain name (letters, digits, '.', '_', '-'; no '/' or '..'); "
            "to put the run elsewhere use --out"
        )
    return value
