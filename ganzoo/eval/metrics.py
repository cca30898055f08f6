"""Which metrics an evaluation measures: names as users write them, and what the extractor serves.

torch-fidelity's metrics (IS, FID, KID, precision/recall), FID∞ on FID's
layer and density/coverage (``dc``, asked for by name) on precision/recall's
need a layer of the extractor; the class metrics (intra-FID and the
class metrics of ``classes``) also need the dataset's classes.  The default is
everything the extractor can serve for the reference dataset, the class
metrics included when the extractor classifies that dataset's classes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import GanzooError
from . import classes
from .extractors import DERIVED, FeatureExtractorInfo, ResolvedWeights, get_extractor

ALIASES = {"is": "isc", "isc": "isc", "fid": "fid", "kid": "kid", "pr": "prc", "prc": "prc"}
ALIASES |= {"fid_inf": "fid_inf", "ifid": "ifid", "intra_fid": "ifid", "intra-fid": "ifid"}
ALIASES |= {"classes": "cls", "cls": "cls", "acc": "cls", "accuracy": "cls"}
ALIASES |= {"dc": "dc", "density": "dc", "coverage": "dc"}
ALIASES |= {"cmmd": "cmmd"}
ALIASES |= {"memorization": "mem", "mem": "mem", "copying": "mem"}
#: The order metrics are listed in everywhere.
ORDER = ("isc", "fid", "fid_inf", "kid", "prc", "dc", "cmmd", "mem", "ifid", "cls")
#: Each metric as users name it (--metrics is,fid,kid,pr).
SHOWN = {"isc": "is", "fid": "fid", "fid_inf": "fid_inf", "kid": "kid", "prc": "pr", "dc": "dc"}
SHOWN |= {"cmmd": "cmmd", "mem": "memorization"}
SHOWN |= {"ifid": "ifid", "cls": "classes"}
#: The layer a class metric reads, for the check that the extractor has it.
NEEDS = {**DERIVED, "ifid": "fid"}


def parse_metrics(metrics: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """``"is,fid"`` or ``["is", "fid"]`` -> ``("isc", "fid")`` in canonical order; None = default."""
    if metrics is None:
        return None
    names = metrics.split(",") if isinstance(metrics, str) else list(metrics)
    chosen = set()
    choices = ", ".join(dict.fromkeys(SHOWN.values()))
    for name in (n.strip().lower() for n in names):
        if not name:
            continue
        if name not in ALIASES:
            raise GanzooError(f"unknown metric {name!r}; choose from {choices}")
        chosen.add(ALIASES[name])
    if not chosen:
        raise GanzooError(f"no metrics requested; choose from {choices}")
    return tuple(m for m in ORDER if m in chosen)


def fidelity_metrics(chosen: tuple[str, ...]) -> tuple[str, ...]:
    """The metrics torch-fidelity computes (the class metrics are ``classes``')."""
    return tuple(m for m in chosen if m not in classes.CLASS_METRICS)


def served(
    name: str,
    info: FeatureExtractorInfo,
    weights: ResolvedWeights,
    requested: tuple[str, ...] | None,
) -> tuple[str, ...]:
    """The requested metrics, checked against the extractor, or all it serves (class ones aside)."""
    if requested is None:
        return info.supported_metrics(weights)
    for metric in requested:
        for needed in (metric, NEEDS.get(metric, metric)):  # dc cannot go where pr cannot
            if needed in weights.unsupported:
                raise GanzooError(weights.unsupported[needed])
        if metric != "cls" and NEEDS.get(metric, metric) not in info.layers:
            serves = ", ".join(SHOWN[m] for m in info.supported_metrics(weights)) or "nothing"
            raise GanzooError(
                f"feature extractor {name!r} has no layer for {SHOWN[metric]}; it serves {serves}"
            )
    return requested


def left_out(info: FeatureExtractorInfo, weights: ResolvedWeights) -> dict[str, str]:
    """Metrics the extractor has a layer for but these weights cannot serve, with why: a
    default evaluation says so instead of leaving a number silently absent."""
    return {SHOWN[m]: why for m, why in weights.unsupported.items() if m in info.layers}


def with_classes(
    chosen: tuple[str, ...],
    default: bool,
    info: FeatureExtractorInfo,
    name: str,
    dataset: str,
    conditional: bool,
) -> tuple[str, ...]:
    """``chosen`` plus, by default, the class metrics the extractor and dataset allow; checked."""
    if default:
        chosen = tuple(m for m in ORDER if m in chosen or m in classes.defaults(info, dataset))
    classes.check(chosen, info, name, dataset, conditional)
    return chosen


def expected(extractor: str, dataset: str, metrics: str | None, weights: str | None) -> tuple:
    """The metrics an evaluation under these options measures (what a stored result must list)."""
    chosen = parse_metrics(metrics)
    if chosen is not None:
        return chosen
    info = get_extractor(extractor)
    default = info.supported_metrics(info.weights(weights))
    return tuple(m for m in ORDER if m in default or m in classes.defaults(info, dataset))


def extractor_rows() -> list[dict[str, Any]]:
    """Every registered feature extractor as a plain dict (``ganzoo extractors``, ``--json``)."""
    from .. import plugins

    rows = []
    for name, reg in sorted(plugins.registry("register_feature_extractors").items()):
        info = reg.obj
        rows.append(
            {
                "name": name,
                "plugin": reg.plugin,
                "conflicts": reg.conflicts,
                "description": getattr(info, "description", ""),
                "metrics": [SHOWN.get(m, m) for m in getattr(info, "layers", {})],
                "layers": dict(getattr(info, "layers", {})),
                "resize": getattr(info, "resize", None),
                "revision": getattr(info, "revision", None),
                "default_for_shapes": [list(s) for s in getattr(info, "default_for_shapes", ())],
                "default_otherwise": getattr(info, "default_otherwise", False),
                "weights_sha256": getattr(info, "weights_sha256", None),
                "batch_sizes": dict(getattr(info, "batch_sizes", {})),
            }
        )
    return rows
