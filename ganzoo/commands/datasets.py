"""``ganzoo datasets``: the registered datasets, each loaded to show its spec and size."""

from __future__ import annotations

from typing import Any

import click

from .listing import DatasetsOptions, echo_json
from .options import options_from, pop_options


@click.command("datasets")
@options_from(DatasetsOptions)
def datasets_cmd(**options: Any) -> None:
    """Registered datasets: spec, size per split, and where the data comes from."""
    from ..data.registry import dataset_rows

    opts = pop_options(DatasetsOptions, options)
    rows = dataset_rows(opts.data_root)
    if opts.as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']}  [{row['plugin']}]  {row['description']}")
        click.echo(f"  source: {row['source']}")
        if row["spec"]:
            s = row["spec"]
            classes = s["num_classes"] if s["num_classes"] else "unlabelled"
            click.echo(
                f"  spec: {s['channels']}x{s['height']}x{s['width']}, classes: {classes}, "
                f"range: {tuple(s['value_range'])}; "
                f"size: {row['size']['train']} train / {row['size']['test']} test"
            )
        elif row["available"] is False:
            click.echo(f"  not available: {row['error']}")
