"""``ganzoo export``: a run's checkpoint as a model folder (safetensors, config, model card)."""

from __future__ import annotations

import click

from ..load.loaded import EMA_HELP


@click.command("export")
@click.argument("run", type=click.Path(exists=True))
@click.option("--out", required=True, type=click.Path(), help="The model folder to write (new).")
@click.option("--checkpoint", type=int, help="Checkpoint step (default: the latest readable).")
@click.option("--ema/--no-ema", default=None, help=EMA_HELP)
@click.option(
    "--dtype",
    type=click.Choice(["float32", "float16", "bfloat16"]),
    default="float32",
    show_default=True,
    help="Precision of the stored weights; below float32 the card's numbers are measured again.",
)
@click.option(
    "--license", "license_", default="apache-2.0", show_default=True, help="For the card."
)
@click.option("--name", help="The model's name on its card (default: the folder's name).")
def export_cmd(run, out, checkpoint, ema, dtype, license_, name) -> None:
    """Write RUN's checkpoint as a folder that ganzoo.from_pretrained and the Hugging Face hub load.

    \b
    OUT/model.safetensors  the weights sampling needs (nothing executable)
    OUT/config.json        model, plugin, hyperparameters, dataset spec, step
    OUT/README.md          the model card: YAML header with every stored result
    """
    from ..pretrained.export import export_run

    folder = export_run(
        run, out, checkpoint=checkpoint, ema=ema, dtype=dtype, license=license_, name=name
    )
    click.echo(f"wrote {folder} (load it with ganzoo.from_pretrained({str(folder)!r}))")
