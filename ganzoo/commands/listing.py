"""The option sets of the listing commands (``models``, ``datasets``, ``extractors``, ``plugins``).

Each listing prints rows a library function builds (``model.model_rows``,
``data.registry.dataset_rows``, ...), as text or, with ``--json``, as the rows
themselves; ``--json`` is defined once here for all of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import click

from ..config import option


@dataclass(kw_only=True)
class ListOptions:
    """The output of a listing: text for people, or the rows as JSON for scripts."""

    as_json: bool = option(False, "Machine-readable output (JSON on stdout).", flag="--json")


@dataclass(kw_only=True)
class ModelsOptions(ListOptions):
    verbose: bool = option(False, "Also list every hyperparameter.", short="-v")
    pretrained: bool = option(
        False, "Pretrained models you can sample at once, with their numbers."
    )


@dataclass(kw_only=True)
class DatasetsOptions(ListOptions):
    data_root: str | None = option(None, "Where file-based datasets live.", directory=True)


def echo_json(rows: Any) -> None:
    click.echo(json.dumps(rows, indent=2, default=str))
