"""``ganzoo trackers``: where a run's numbers can go, plugins' trackers included.

``--tracker`` help cannot list them (option help is built before any plugin
hook may run), so this is where a user finds the names it accepts.
"""

from __future__ import annotations

from typing import Any

import click

from .listing import ListOptions, echo_json
from .options import options_from, pop_options

#: The tracker every run has, listed first; its class is ganzoo's own (``ganzoo.track.jsonl``).
JSONL = {
    "name": "jsonl",
    "plugin": "ganzoo (built in)",
    "description": "RUN/metrics.jsonl, one JSON row per log step and evaluation; always on.",
    "extra": None,
    "install": None,
    "conflicts": [],
}


def install_hint(extra: str | None, distribution: str | None) -> str | None:
    """What to pip install for a tracker's library: ``ganzoo[EXTRA]`` for ganzoo's own
    trackers, a third party's ``extra=`` as written (``wandb``, ``ganzoo-wandb[gpu]``)."""
    if not extra:
        return None
    return f"ganzoo[{extra}]" if distribution == "ganzoo" else extra


def tracker_rows() -> list[dict[str, Any]]:
    from .. import plugins

    registered = plugins.registry("register_trackers")
    distributions = {info.name: info.distribution for info in plugins.plugin_infos()}
    rows = [JSONL]
    for name, reg in sorted(registered.items()):
        extra = reg.extra.get("extra")
        rows.append(
            {
                "name": name,
                "plugin": reg.plugin,
                "description": reg.extra.get("description") or (reg.obj.__doc__ or "").strip(),
                "extra": extra,
                "install": install_hint(extra, distributions.get(reg.plugin)),
                "conflicts": reg.conflicts,
            }
        )
    return rows


@click.command("trackers")
@options_from(ListOptions)
def trackers_cmd(**options: Any) -> None:
    """Experiment trackers for `ganzoo train --tracker NAME[,NAME]`, plugins' included."""
    rows = tracker_rows()
    if pop_options(ListOptions, options).as_json:
        echo_json(rows)
        return
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        owner = ", ".join(row["conflicts"]) or row["plugin"]
        extra = f" (pip install '{row['install']}')" if row.get("install") else ""
        first = row["description"].splitlines()[0] if row["description"] else ""
        click.echo(f"{row['name']:<{width}}  [{owner}]  {first}{extra}")
