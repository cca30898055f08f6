"""``ganzoo plugin new``: a plugin distribution that passes ``ganzoo check`` as written."""

from __future__ import annotations

from typing import Any

import click

from ..scaffold import NewPluginOptions
from .options import options_from, pop_options


@click.group("plugin")
def plugin_group() -> None:
    """Start a plugin: `ganzoo plugin new NAME` writes one that passes `ganzoo check`."""


@plugin_group.command("new")
@click.argument("name")
@options_from(NewPluginOptions)
def new_cmd(name: str, **options: Any) -> None:
    """Write a working plugin distribution NAME that passes `ganzoo check` as generated.

    \b
    It holds pyproject.toml with the entry point, the hooks module, the chosen
    skeletons (a small GAN, a procedural dataset, a feature extractor that needs
    no weights file, a CSV tracker, a command), tests that use ganzoo's pytest fixtures, and a
    README.  Try it: pip install -e DIR && pytest DIR/tests.
    """
    from ..scaffold import CHECKED, write_plugin

    opts = pop_options(NewPluginOptions, options)
    written = write_plugin(name, list(opts.kinds), opts.out)
    click.echo(f"wrote {written.root} ({', '.join(written.kinds)}):")
    for path in written.files:
        click.echo(f"  {path}")
    check = f"GANZOO_LOAD_PLUGINS=ganzoo,{written.dist} ganzoo check {written.name}"
    click.echo(
        f"next: pip install -e {written.root} && pytest {written.root / 'tests'}"
        + (f"  (or: {check})" if set(written.kinds) & set(CHECKED) else "")
    )
