"""``ganzoo plugins``: what is loaded, from where, and what is wrong with it."""

from __future__ import annotations

from typing import Any

import click

from .. import plugins
from .listing import ListOptions, echo_json
from .options import options_from, pop_options


@click.command("plugins")
@options_from(ListOptions)
def plugins_cmd(**options: Any) -> None:
    """Installed plugins: distribution or file, hooks, whether they loaded, and their mistakes."""
    rows = [info.as_dict() for info in plugins.plugin_infos()]
    if pop_options(ListOptions, options).as_json:
        echo_json(rows)
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
