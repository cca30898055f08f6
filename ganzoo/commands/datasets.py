"""``ganzoo datasets``: the registered datasets, each loaded to show its spec and size."""

from __future__ import annotations

import json

import click


@click.command("datasets")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--data-root", type=click.Path(file_okay=False), help="Where file-based datasets live."
)
def datasets_cmd(as_json: bool, data_root: str | None) -> None:
    """Registered datasets: spec, size per split, and where the data comes from."""
    from ..data.registry import dataset_entries, load_dataset
    from ..errors import GanzooError

    rows = []
    for entry in sorted(dataset_entries(), key=lambda e: e.name):
        row = {
            "name": entry.name + (":PATH" if entry.takes_argument else ""),
            "plugin": entry.plugin,
            "description": entry.description,
            "source": entry.source,
            "spec": None,
            "size": None,
            "available": None,
        }
        if not entry.takes_argument:
            try:
                sizes = {}
                for split in ("train", "test"):
                    data = load_dataset(entry.name, split, data_root=data_root)
                    sizes[split] = len(data)
                row["spec"], row["size"], row["available"] = data.spec.as_dict(), sizes, True
            except GanzooError as exc:
                row["available"] = False
                row["error"] = str(exc)
        rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
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
