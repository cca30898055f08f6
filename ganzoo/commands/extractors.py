"""``ganzoo extractors``: the registered feature extractors, plugins' included.

``--extractor`` help cannot list them (option help is built before any plugin
hook may run), so this is where a user finds the names it accepts.
"""

from __future__ import annotations

import json

import click

from .. import plugins

METRIC_NAMES = {"isc": "is", "fid": "fid", "kid": "kid", "prc": "pr"}


def extractor_rows() -> list[dict]:
    rows = []
    for name, reg in sorted(plugins.registry("register_feature_extractors").items()):
        info = reg.obj
        row = {
            "name": name,
            "plugin": reg.plugin,
            "conflicts": reg.conflicts,
            "description": getattr(info, "description", ""),
            "metrics": [METRIC_NAMES.get(m, m) for m in getattr(info, "layers", {})],
            "layers": dict(getattr(info, "layers", {})),
            "resize": getattr(info, "resize", None),
            "revision": getattr(info, "revision", None),
            "default_for_shapes": [list(s) for s in getattr(info, "default_for_shapes", ())],
            "default_otherwise": getattr(info, "default_otherwise", False),
            "weights_sha256": getattr(info, "weights_sha256", None),
            "batch_sizes": dict(getattr(info, "batch_sizes", {})),
        }
        rows.append(row)
    return rows


def _default_text(row: dict) -> str:
    shapes = ", ".join("x".join(map(str, s)) for s in row["default_for_shapes"])
    parts = [f"default for {shapes}"] if shapes else []
    if row["default_otherwise"]:
        parts.append("default for every other shape")
    return "; ".join(parts)


@click.command("extractors")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def extractors_cmd(as_json: bool) -> None:
    """Feature extractors for `ganzoo eval --extractor NAME`: metrics, resize, which is default."""
    rows = extractor_rows()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
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
