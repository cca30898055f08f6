"""``ganzoo export``: a run's checkpoint as a model folder (``ganzoo.pretrained.export``)."""

from __future__ import annotations

from typing import Any

import click

from ..pretrained.options import ExportOptions
from .options import options_from, pop_options


@click.command("export")
@click.argument("run", type=click.Path(exists=True))
@options_from(ExportOptions)
def export_cmd(run: str, **options: Any) -> None:
    """Write RUN's checkpoint as a folder that ganzoo.from_pretrained and the Hugging Face hub load.

    \b
    OUT/model.safetensors  the weights sampling needs (nothing executable)
    OUT/config.json        model, plugin, hyperparameters, dataset spec, step
    OUT/README.md          the model card: YAML header with every stored result
    """
    from ..pretrained.export import write_export

    folder = write_export(run, pop_options(ExportOptions, options))
    click.echo(f"wrote {folder} (load it with ganzoo.from_pretrained({str(folder)!r}))")
