"""``ganzoo check NAME``: the conformance checks of ``ganzoo.testing``, from the command line."""

from __future__ import annotations

import click

from .. import plugins
from ..errors import GanzooError

HOOKS = {
    "model": "register_models",
    "dataset": "register_datasets",
    "extractor": "register_feature_extractors",
}


def resolve_kind(name: str, kind: str | None) -> str:
    """Which registry ``name`` belongs to: the one asked, else the only one that has it."""
    base = name.partition(":")[0]
    found = [k for k, hook in HOOKS.items() if base in plugins.registry(hook)]
    if kind is not None:
        return kind  # a wrong kind is reported by the check itself, with close names
    if len(found) == 1:
        return found[0]
    if found:
        raise GanzooError(
            f"{name!r} is a registered {' and a '.join(found)}; choose one with --kind"
        )
    import difflib

    known = [n for hook in HOOKS.values() for n in plugins.registry(hook)]
    close = difflib.get_close_matches(base, known, n=3, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise GanzooError(
        f"{name!r} is not a registered model, dataset or feature extractor.{hint} "
        "See ganzoo models, ganzoo datasets, ganzoo extractors."
    )


def _spec(text: str | None):
    if text is None:
        return None
    from ..data.base import DatasetSpec

    try:
        channels, height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise GanzooError(f"--spec must look like 1x28x28 (CxHxW), not {text!r}") from None
    return DatasetSpec(channels, height, width, num_classes=10)


@click.command("check")
@click.argument("name")
@click.option("--kind", type=click.Choice(list(HOOKS)), help="What NAME is, when it is ambiguous.")
@click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE",
    help="A model hyperparameter for the checks (repeatable), e.g. smaller networks.",
)  # fmt: skip
@click.option(
    "--spec", "spec_text", metavar="CxHxW", help="Image shape for a model (default 1x28x28)."
)
@click.option(
    "--data-root", type=click.Path(file_okay=False), help="Where file-based datasets live."
)
@click.option("--extractor-weights", help="Weights file for an extractor (default: its own).")
def check_cmd(name, kind, sets, spec_text, data_root, extractor_weights) -> None:
    """Check that model, dataset or feature extractor NAME does what ganzoo relies on.

    \b
    One line per check, PASS, FAIL (with what to fix) or SKIP; exit status 1
    if any failed. The same checks as ganzoo.testing.check_model,
    check_dataset and check_extractor, for a plugin's own tests.
    """
    from .. import testing
    from ..config import parse_sets

    kind = resolve_kind(name, kind)
    if kind != "model" and (sets or spec_text):
        raise GanzooError(f"--set and --spec apply to models; {name!r} is checked as a {kind}")
    if kind == "model":
        overrides = parse_sets(sets)
        report = testing.check_model(name, _spec(spec_text), overrides, raises=False)
    elif kind == "dataset":
        report = testing.check_dataset(name, data_root=data_root, raises=False)
    else:
        report = testing.check_extractor(name, weights=extractor_weights, raises=False)
    for line in report.lines():
        click.echo(line)
    failures = len(report.failures)
    if failures:
        raise GanzooError(f"{failures} of {len(report.checks)} checks failed for {report.subject}")
