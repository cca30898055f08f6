"""``ganzoo models``: the registered models, and with ``--pretrained`` the ones that ship trained."""

from __future__ import annotations

import json

import click

from .. import plugins


def _echo_json(data) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def model_rows() -> list[dict]:
    from ..config import describe

    rows = []
    for name, reg in sorted(plugins.registry("register_models").items()):
        cls = reg.obj
        rows.append(
            {
                "name": name,
                "family": cls.family,
                "plugin": reg.plugin,
                "description": cls.description,
                "alias_of": reg.extra.get("alias_of"),
                "conflicts": reg.conflicts,
                "batch_size": cls.default_batch_size,
                "ema_by_default": cls.ema_by_default,
                "hyperparameters": describe(cls.Config),
                "sampling_fields": list(cls.sampling_fields),
                "zoo_steps": cls.zoo_steps,
            }
        )
    return rows


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("-v", "--verbose", is_flag=True, help="Also list every hyperparameter.")
@click.option(
    "--pretrained",
    is_flag=True,
    help="Pretrained models you can sample at once, with their numbers.",
)
def models_cmd(as_json: bool, verbose: bool, pretrained: bool) -> None:
    """Registered models with their family, plugin and hyperparameters."""
    if pretrained:
        _show_pretrained(as_json)
        return
    rows = model_rows()
    if as_json:
        _echo_json(rows)
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
        params = row["hyperparameters"] if verbose else []
        if verbose:
            budget = row["zoo_steps"]
            budget = f"{budget} steps" if budget else "what fits in its time share (none declared)"
            click.echo(f"{'':<{width}}    ganzoo zoo budget: {budget}")
        for p in params:
            when = "  (sampling time)" if p["name"] in row["sampling_fields"] else ""
            click.echo(f"{'':<{width}}    {p['name']}: {p['type']} = {p['default']!r}{when}")
    if rows and not verbose:
        click.echo("\nHyperparameters: ganzoo models -v (set them with --set key=value).")


def _show_pretrained(as_json: bool) -> None:
    from ..load.registry import pretrained_rows

    rows = pretrained_rows()
    if as_json:
        _echo_json(rows)
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
                f"  {result['extractor']}, {result['num_generated']} vs {result['num_real']}: "
                f"{numbers}"
            )
    if rows:
        click.echo("\nSample one: ganzoo sample NAME --out grid.png (offline, seconds).")
