"""``ganzoo check NAME``: the conformance checks of ``ganzoo.testing``, from the command line."""

from __future__ import annotations

from typing import Any

import click

from ..testing.named import CheckOptions
from .options import options_from, pop_options


@click.command("check")
@click.argument("name")
@options_from(CheckOptions)
def check_cmd(name: str, **options: Any) -> None:
    """Check that model, dataset or feature extractor NAME does what ganzoo relies on.

    \b
    One line per check, PASS, FAIL (with what to fix) or SKIP; exit status 1
    if any failed. The same checks as ganzoo.testing.check_model,
    check_dataset and check_extractor, for a plugin's own tests.
    """
    from ..errors import GanzooError
    from ..testing.named import check_named

    report = check_named(name, pop_options(CheckOptions, options))
    for line in report.lines():
        click.echo(line)
    failures = len(report.failures)
    if failures:
        raise GanzooError(f"{failures} of {len(report.checks)} checks failed for {report.subject}")
