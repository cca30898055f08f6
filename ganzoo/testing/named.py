"""``ganzoo check NAME`` as a library call: a registered name, whatever it is, checked.

``CheckOptions`` is defined once, here, for ``check_named`` and for the
command, which derives its options from the fields (``ganzoo.commands.options``).
This module imports no torch until a check runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import plugins
from ..config import option
from ..errors import GanzooError, did_you_mean
from .report import Report

#: What NAME can be, and the registration hook each kind comes from.
HOOKS = {
    "model": "register_models",
    "dataset": "register_datasets",
    "extractor": "register_feature_extractors",
}


@dataclass(kw_only=True)
class CheckOptions:
    """What NAME is, and what its checks run on."""

    kind: str | None = option(None, "What NAME is, when it is ambiguous.", choices=tuple(HOOKS))
    sets: tuple[str, ...] = option(
        (),
        "A model hyperparameter for the checks (repeatable), e.g. smaller networks.",
        flag="--set",
        metavar="KEY=VALUE",
    )
    spec: str | None = option(None, "Image shape for a model (default 1x28x28).", metavar="CxHxW")
    data_root: str | None = option(None, "Where file-based datasets live.", directory=True)
    extractor_weights: str | None = option(
        None, "Weights file for an extractor (default: its own)."
    )

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in HOOKS:
            raise GanzooError(f"--kind must be one of {', '.join(HOOKS)}, not {self.kind!r}")


def check_named(name: str, opts: CheckOptions) -> Report:
    """The conformance report of NAME (failures included: the caller decides what they mean)."""
    from . import check_dataset, check_extractor, check_model

    kind = resolve_kind(name, opts.kind)
    if kind != "model" and (opts.sets or opts.spec):
        raise GanzooError(f"--set and --spec apply to models; {name!r} is checked as a {kind}")
    if kind == "model":
        from ..config import parse_sets

        return check_model(name, _spec(opts.spec), parse_sets(opts.sets), raises=False)
    if kind == "dataset":
        return check_dataset(name, data_root=opts.data_root, raises=False)
    return check_extractor(name, weights=opts.extractor_weights, raises=False)


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
    known = [n for hook in HOOKS.values() for n in plugins.registry(hook)]
    hint = did_you_mean(base, known)
    raise GanzooError(
        f"{name!r} is not a registered model, dataset or feature extractor.{hint} "
        "See ganzoo models, ganzoo datasets, ganzoo extractors."
    )


def _spec(text: str | None) -> Any:
    if text is None:
        return None
    from ..data.base import DatasetSpec

    try:
        channels, height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise GanzooError(f"--spec must look like 1x28x28 (CxHxW), not {text!r}") from None
    return DatasetSpec(channels, height, width, num_classes=10)
