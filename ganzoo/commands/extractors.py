"""``ganzoo extractors``: the registered feature extractors, plugins' included.

``--extractor`` help cannot list them (option help is built before any plugin
hook may run), so this is where a user finds the names it accepts.
"""

from __future__ import annotations

from typing import Any

import click

from .. import plugins
from .listing import ListOptions, echo_json
from .options import options_from, pop_options


def _default_text(row: dict) -> str:
    shapes = ", ".join("x".join(map(str, s)) for s in row["default_for_shapes"])
    parts = [f"default for {shapes}"] if shapes else []
    if row["default_otherwise"]:
        parts.append("default for every other shape")
    return "; ".join(parts)


@click.command("extractors")
@options_from(ListOptions)
def extractors_cmd(**options: Any) -> None:
    """Feature extractors for `ganzoo eval --extractor NAME`: metrics, resize, which is default."""
    from ..eval.metrics import extractor_rows

    rows = extractor_rows()
    if pop_options(ListOptions, options).as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No feature extractors registered.")
    width = max((len(r["name"]) for r in rows), default=0)
    for row in rows:
        owner = ", ".join(row["conflicts"]) or row["plugin"]
        note = ""
        if row["conflicts"]:
            clash = plugins.clash_text(row["conflicts"])
            note = f" CONFLICT: registered by {clash} (unusable; see GANZOO_LOAD_PLUGINS)"
        click.echo(f"{row['name']:<{width}}  [{owner}]  {row['description']}{note}")
        details = [f"metrics: {', '.join(row['metrics']) or '-'}"]
        if row["resize"]:
            details.append(f"resize: {row['resize']}")
        if row["batch_sizes"]:
            sizes = ", ".join(f"{kind} {size}" for kind, size in sorted(row["batch_sizes"].items()))
            details.append(f"batch: {sizes}")
        if _default_text(row):
            details.append(_default_text(row))
        click.echo(f"{'':<{width}}    {'; '.join(details)}")
