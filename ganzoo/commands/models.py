"""``ganzoo models``: the registered models, and with ``--pretrained`` the ones that ship trained."""

from __future__ import annotations

from typing import Any

import click

from .. import plugins
from .listing import ModelsOptions, echo_json
from .options import options_from, pop_options


@click.command("models")
@options_from(ModelsOptions)
def models_cmd(**options: Any) -> None:
    """Registered models with their family, plugin and hyperparameters."""
    from ..model import model_rows

    opts = pop_options(ModelsOptions, options)
    if opts.pretrained:
        _show_pretrained(opts.as_json)
        return
    rows = model_rows()
    if opts.as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No models registered.")
    width = max((len(r["name"]) for r in rows), default=0)
    for row in rows:
        note = f" (alias of {row['alias_of']})" if row["alias_of"] else ""
        owner = ", ".join(row["conflicts"]) or row["plugin"]
        if row["conflicts"]:
            clash = plugins.clash_text(row["conflicts"])
            note += f" CONFLICT: registered by {clash} (unusable; see GANZOO_LOAD_PLUGINS)"
        head = f"{row['name']:<{width}}  {row['family']:<14} [{owner}]"
        click.echo(f"{head}  {row['description']}{note}")
        if opts.verbose:
            _echo_details(row, width)
    if rows and not opts.verbose:
        click.echo("\nHyperparameters: ganzoo models -v (set them with --set key=value).")


def _echo_details(row: dict[str, Any], width: int) -> None:
    budget = row["zoo_steps"]
    budget = f"{budget} steps" if budget else "what fits in its time share (none declared)"
    click.echo(f"{'':<{width}}    ganzoo zoo budget: {budget}")
    for p in row["hyperparameters"]:
        when = "  (sampling time)" if p["name"] in row["sampling_fields"] else ""
        click.echo(f"{'':<{width}}    {p['name']}: {p['type']} = {p['default']!r}{when}")


def _sampled(sampling: dict[str, Any]) -> str:
    """`` (ddim, sample_steps 250, NFE 250)``: how the images were drawn, when the model has
    sampling settings (two numbers of one model differ by them)."""
    settings = sampling["settings"]
    if not settings:
        return ""
    shown = [f"{k} {v}" for k, v in settings.items() if k != "sampler"]
    sampler = [str(settings["sampler"])] if "sampler" in settings else []
    nfe = [f"NFE {sampling['nfe']}"] if sampling["nfe"] is not None else []
    return f" ({', '.join([*sampler, *shown, *nfe])})"


def _show_pretrained(as_json: bool) -> None:
    from ..load.registry import pretrained_rows

    rows = pretrained_rows()
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No pretrained models registered.")
    for row in rows:
        size = f"{row['size_bytes'] / 1e6:.1f} MB" if row["size_bytes"] else "missing files"
        click.echo(
            f"{row['name']}  [{row['plugin']}]  {row['model']} on {row['dataset']}, step "
            f"{row['step']}, {row['dtype']}, {size}"
        )
        for result in row["results"]:
            numbers = ", ".join(
                f"{label} {result['metrics'][key]:.3g}"
                for key, label in (
                    ("frechet_inception_distance", "FID"),
                    ("kernel_inception_distance_mean", "KID"),
                    ("inception_score_mean", "IS"),
                )
                if key in result["metrics"]
            )
            click.echo(
                f"  {result['extractor']}, {result['num_generated']} vs {result['num_real']}"
                f"{_sampled(result['sampling'])}: {numbers}"
            )
            if result["collapsed"]:
                click.echo(f"    COLLAPSED ({result['collapsed']})")
    if rows:
        click.echo("\nSample one: ganzoo sample NAME --out grid.png (offline, seconds).")
