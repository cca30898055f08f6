"""``ganzoo plugin new``: a plugin distribution that passes ``ganzoo check`` as written."""

from __future__ import annotations

import click

KINDS = ("model", "dataset", "extractor", "command")


@click.group("plugin")
def plugin_group() -> None:
    """Start a plugin: `ganzoo plugin new NAME` writes one that passes `ganzoo check`."""


def _kinds(values: tuple[str, ...]) -> list[str]:
    chosen = [part.strip() for value in values for part in value.split(",") if part.strip()]
    unknown = sorted(set(chosen) - set(KINDS))
    if unknown:
        raise click.BadParameter(
            f"unknown kind {', '.join(unknown)}; choose from {', '.join(KINDS)}",
            param_hint="--kind",
        )
    return [kind for kind in KINDS if kind in chosen] or ["model"]


@plugin_group.command("new")
@click.argument("name")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    metavar="KIND",
    help=f"What the plugin registers (repeatable or comma-separated): {', '.join(KINDS)}. "
    "Default: model.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Directory to create (default: ./ganzoo-NAME); it must not exist or be empty.",
)
def new_cmd(name: str, kinds: tuple[str, ...], out: str | None) -> None:
    """Write a working plugin distribution NAME that passes `ganzoo check` as generated.

    \b
    It holds pyproject.toml with the entry point, the hooks module, the chosen
    skeletons (a small GAN, a procedural dataset, a feature extractor that needs
    no weights file, a command), tests that use ganzoo's pytest fixtures, and a
    README.  Try it: pip install -e DIR && pytest DIR/tests.
    """
    from ..scaffold import write_plugin

    written = write_plugin(name, _kinds(kinds), out)
    click.echo(f"wrote {written.root} ({', '.join(written.kinds)}):")
    for path in written.files:
        click.echo(f"  {path}")
    click.echo(
        f"next: pip install -e {written.root} && pytest {written.root / 'tests'}"
        f"  (or: GANZOO_LOAD_PLUGINS=ganzoo,{written.dist} ganzoo check {written.name})"
    )
