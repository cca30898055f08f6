"""``ganzoo sample``: a TARGET's samples into a PNG grid or an ``.npz`` (``ganzoo.sampling.files``)."""

from __future__ import annotations

from typing import Any

import click

from ..sampling.files import SampleOptions
from .options import options_from, pop_options


@click.command("sample")
@click.argument("run")
@options_from(SampleOptions)
def sample_cmd(run: str, **options: Any) -> None:
    """Sample RUN into a PNG grid or an .npz of uint8 images (and their labels).

    RUN is a run directory, a checkpoint file, a model folder (ganzoo export) or
    a pretrained name (ganzoo models --pretrained).
    """
    from ..sampling.files import write_samples

    click.echo(write_samples(run, pop_options(SampleOptions, options)).summary())
