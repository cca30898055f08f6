"""``ganzoo train`` and ``ganzoo sample``."""

from __future__ import annotations

import re
from pathlib import Path

import click

from ..eval.request import MAX_IMAGES
from ..seeds import MAX_SEED
from ..train.options import TrainOptions
from . import launch
from .launch import nproc_option, relaunched
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
    if not out and nproc > 1:  # every worker must name the same directory
        out = str(run_mod.default_run_dir(model_name, dataset, name))
        launch.ARGV.extend(["--out", out])
    if not out and not name and launched():
        raise GanzooError(
            "under torchrun give --out or --name: every process must name the same run directory"
        )
    if relaunched(nproc):
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


@click.command("sample")
@click.argument("run")
@click.option("--checkpoint", type=int, help="Step of the checkpoint (default: latest).")
@click.option("--n", "n", default=64, show_default=True, type=click.IntRange(1, MAX_IMAGES))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, MAX_SEED))
@click.option(
    "--ema/--no-ema", default=None, help="Use EMA weights (default: when the run has them)."
)
@click.option("--device", default="auto", show_default=True)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="grid.png or samples.npz"
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="A sampling-time setting (repeatable; `ganzoo models -v` marks them), "
    "e.g. sampler=ddpm, sample_steps=250.",
)
@click.option(
    "--class",
    "classes",
    metavar="C[,C...]",
    help="Conditional runs: the classes to draw, --n split evenly, one grid row each "
    "(default: every class).",
)
def sample_cmd(run, checkpoint, n, seed, ema, device, out, sets, classes) -> None:
    """Sample RUN into a PNG grid or an .npz of uint8 images (and their labels).

    RUN is a run directory, a checkpoint file, a model folder (ganzoo export) or
    a pretrained name (ganzoo models --pretrained).
    """
    import numpy as np
    import torch

    from ..atomic import atomic_write
    from ..config import parse_sets
    from ..data.base import to_uint8
    from ..device import resolve_device
    from ..errors import GanzooError, warn
    from ..load.run import load_run
    from ..sampling import applied, draw_samples
    from ..train.logger import save_grid

    out_path = Path(out)
    if out_path.suffix.lower() not in (".png", ".npz"):
        raise GanzooError(f"--out must end in .png or .npz, not {out_path.name!r}")
    loaded = load_run(run, checkpoint, device=resolve_device(device), use_ema=ema)
    if loaded.ema_note:
        warn(loaded.ema_note)
    labels, per_row = class_labels(loaded.model, classes, n)
    n = n if labels is None else len(labels)
    with applied(loaded.model, parse_sets(sets)) as model:
        images = draw_samples(model, n, torch.Generator().manual_seed(seed), labels).cpu()
    if out_path.suffix.lower() == ".png":
        save_grid(images, loaded.spec.value_range, out_path, per_row)
    else:
        array = to_uint8(images, loaded.spec.value_range).permute(0, 2, 3, 1).numpy()
        extra = {} if labels is None else {"labels": labels.numpy()}
        with atomic_write(out_path) as fh:
            np.savez_compressed(fh, images=array, **extra)
    weights = "EMA" if loaded.ema else "raw"
    drawn = "" if labels is None else f" of classes {', '.join(map(str, labels.unique().tolist()))}"
    click.echo(
        f"wrote {n} samples{drawn} from step {loaded.step} ({weights} weights) to {out_path}"
    )


def class_labels(model, classes: str | None, n: int):
    """(labels, images per grid row) for ``--class``: n split over the classes, class by class.

    Conditional models draw every class unless told; asking an unconditional
    model for classes is a mistake worth one line.
    """
    from ..errors import GanzooError
    from ..sampling import class_rows

    if not model.conditional:
        if classes:
            raise GanzooError(
                f"model {model.name!r} is not class-conditional, so --class cannot apply; "
                "drop it (a conditional model is trained with its conditional setting on)"
            )
        return None, None
    k = model.spec.num_classes
    try:
        chosen = [int(c) for c in classes.split(",") if c.strip()] if classes else list(range(k))
    except ValueError:
        raise GanzooError(f"--class takes class numbers like 3 or 1,3,5, not {classes!r}") from None
    wrong = [c for c in chosen if not 0 <= c < k]
    if wrong or not chosen:
        raise GanzooError(f"--class {classes}: model {model.name!r} draws classes 0 to {k - 1}")
    per_class = max(1, n // len(chosen))
    return class_rows(chosen, per_class), per_class if len(chosen) > 1 else None


COMMANDS = [train_cmd, sample_cmd]
