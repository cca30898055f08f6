"""``ganzoo plugins``: what is loaded, from where, and what is wrong with it."""

from __future__ import annotations

import json

import click

from .. import plugins


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_cmd(as_json: bool) -> None:
    """Installed plugins: distribution or file, hooks, whether they loaded, and their mistakes."""
    rows = [info.as_dict() for info in plugins.plugin_infos()]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("No plugins loaded (is GANZOO_LOAD_PLUGINS set to an empty value?).")
    for row in rows:
        if row["distribution"]:
            where = f"{row['distribution']} {row['version']}"
        else:
            where = f"file {row['path']}" if row["path"] else "in-process"
        click.echo(f"{row['name']}  [{where}]  {row['status']}")
        click.echo(f"  hooks: {', '.join(row['hooks']) or '-'}")
        if row["error"]:
            click.echo(f"  error: {row['error']}")
        for warning in row["warnings"]:
            click.echo(f"  warning: {warning}")
