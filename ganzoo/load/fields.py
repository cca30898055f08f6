"""What a model folder's ``config.json`` may hold, checked before anything is built from it.

A folder can come from anywhere (a download, a colleague, a hand edit), so its
config is untrusted input: a string where ganzoo expects a number, a negative
channel count or an image a million pixels high would otherwise surface as a
traceback, or as an attempt to allocate hundreds of gigabytes, deep inside a
plugin's constructor.  Every field loading reads is checked here for its type
and range, each failure one line naming the field; the hyperparameters are
checked by the model's own ``Config`` (``fit.py``), which knows their types.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
from pathlib import Path
from typing import Any

from ..errors import GanzooError

#: Values per image (channels x height x width) a folder may claim: 4096x4096 grey,
#: 2364x2364 RGB.  Sampling holds a batch of such images, so the bound keeps a folder's
#: claim from turning into gigabytes per image.
MAX_IMAGE_VALUES = 2**24
MAX_CLASSES = 100_000
SPEC_KEYS = ("channels", "height", "width", "num_classes", "value_range")
OPTIONAL_TEXT = ("plugin", "plugin_version", "name", "dataset", "split", "dtype", "family")
OPTIONAL_TEXT += ("license",)
SHA256 = re.compile(r"[0-9a-f]{64}")

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 40


def shown(value: Any) -> str:
    """A value short enough for a one-line error, whatever its size or depth (JSON's words)."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return _short.repr(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer of hundreds of digits
        return False


def check_fields(config: dict[str, Any], where: Path, newest_format: int) -> None:
    """Refuse a config whose top-level fields have the wrong type or an impossible value."""

    def bad(key: str, wanted: str) -> GanzooError:
        return GanzooError(
            f"{where}: {key} must be {wanted}, not {shown(config[key])}; the file was damaged "
            "or edited by hand: export the model again"
        )

    fmt = config["ganzoo_format"]
    if not _is_int(fmt) or fmt < 1:
        raise bad("ganzoo_format", "a positive integer")
    if fmt > newest_format:
        raise GanzooError(
            f"{where.parent} was written by a newer ganzoo (format {fmt}); upgrade ganzoo to load it"
        )
    if not isinstance(config["model"], str) or not config["model"]:
        raise bad("model", "a model name")
    if not isinstance(config["hyperparameters"], dict):
        raise bad("hyperparameters", "an object of hyperparameter names and values")
    if not isinstance(config["spec"], dict):
        raise bad("spec", "an object with channels, height and width")
    sha = config["weights_sha256"]
    if not isinstance(sha, str) or not SHA256.fullmatch(sha):
        raise bad("weights_sha256", "the 64 lowercase hex digits of a sha256")
    step = config.get("step")  # absent or null: not known, read as 0
    if step is not None and (not _is_int(step) or step < 0):
        raise bad("step", "a training step (an integer >= 0)")
    if not isinstance(config.get("ema"), bool | None):
        raise bad("ema", "true or false")
    for key in OPTIONAL_TEXT:
        if not isinstance(config.get(key), str | None):
            raise bad(key, "a string")
    check_spec(config["spec"], where)


def check_spec(spec: dict[str, Any], where: Path) -> None:
    """The image shape and value range: positive sizes, bounded, and a finite, non-empty range."""

    def bad(what: str) -> GanzooError:
        return GanzooError(
            f"{where}: spec {what}; the file was damaged or edited by hand: export the model again"
        )

    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise bad(f"has unknown key {shown(unknown[0])} (it may hold {', '.join(SPEC_KEYS)})")
    for key in ("channels", "height", "width"):
        if key not in spec:
            raise bad(f"lacks {key}")
        if not _is_int(spec[key]) or spec[key] < 1:
            raise bad(f"{key} must be a positive integer, not {shown(spec[key])}")
    values = spec["channels"] * spec["height"] * spec["width"]
    if values > MAX_IMAGE_VALUES:
        raise bad(
            f"claims {spec['channels']}x{spec['height']}x{spec['width']} images, "
            f"{values:,} values each (at most {MAX_IMAGE_VALUES:,})"
        )
    classes = spec.get("num_classes")
    if classes is not None and (not _is_int(classes) or not 1 <= classes <= MAX_CLASSES):
        raise bad(f"num_classes must be null or 1 to {MAX_CLASSES:,}, not {shown(classes)}")
    span = spec.get("value_range", [-1.0, 1.0])
    if not (
        isinstance(span, list)
        and len(span) == 2
        and all(_is_finite_number(v) for v in span)
        and span[0] != span[1]
    ):
        raise bad(f"value_range must be two different finite numbers, not {shown(span)}")
