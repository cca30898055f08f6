"""Typed hyperparameters: ``--config FILE.toml`` and ``--set key=value`` into a dataclass.

A model declares its hyperparameters as a dataclass with defaults; this module
is the single place that turns user text into it.  Errors name the bad key or
value and list every valid key with its type and default, so a typo is fixed
in one try.  The resolved object round-trips through ``to_dict`` / JSON, which
is what the run directory stores.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

T = TypeVar("T")


def option(default: Any, help: str, **cli: Any) -> Any:
    """A dataclass field that is also a command-line option: one definition for both.

    ``cli`` tunes the option ``ganzoo.commands.options.options_from`` derives:
    ``flag`` (the option's name, default ``--field-name``), ``aliases``,
    ``short``, ``min`` and ``max`` (bounds; ``min_open=True`` / ``max_open=True``
    exclude them), ``choices`` (``case_sensitive=False`` to accept any case),
    ``directory=True`` / ``file=True`` (a folder or file path), ``metavar``,
    ``expose=False`` (parsed by the caller itself, as the root group's options
    are); ``cli=False`` keeps the field out of the command line, and a
    ``default`` of ``dataclasses.MISSING`` makes the option required.  The bounds are enforced by
    ``check_ranges`` on the dataclass itself, so the library, the CLI and the zoo
    refuse the same values with the same line.
    """
    return dataclasses.field(default=default, metadata={"help": help, **cli})


def check_ranges(obj: Any) -> None:
    """Refuse a numeric field outside its ``option`` bounds, or not finite (NaN, inf).

    A NaN slips through every comparison, and click's ranges compare, so the
    finiteness test lives here, where every way of building the options passes.
    """
    for f in dataclasses.fields(obj):
        problem = _range_problem(getattr(obj, f.name), f.metadata)
        if problem:
            flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
            raise ConfigError(f"{flag} {problem}")


def _range_problem(value: Any, meta: typing.Mapping[str, Any]) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return f"must be a finite number, not {value}"
    low, high = meta.get("min"), meta.get("max")
    if low is not None and (value <= low if meta.get("min_open") else value < low):
        return (
            f"must be {'greater than' if meta.get('min_open') else 'at least'} {low}, not {value}"
        )
    if high is not None and (value >= high if meta.get("max_open") else value > high):
        return f"must be {'less than' if meta.get('max_open') else 'at most'} {high}, not {value}"
    return None


def describe(cls: type) -> list[dict[str, Any]]:
    """Each field's name, type (as text) and default: what ``ganzoo models`` prints."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        rows.append({"name": f.name, "type": _type_name(hints[f.name]), "default": _default(f)})
    return rows


def valid_keys_text(cls: type) -> str:
    return "; ".join(f"{r['name']}: {r['type']} = {r['default']!r}" for r in describe(cls))


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + "|".join(str(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in get_args(tp))
    if origin in (tuple, list):
        names = ["..." if a is Ellipsis else _type_name(a) for a in get_args(tp)]
        return f"{origin.__name__}[{', '.join(names)}]"
    if tp is type(None):
        return "None"
    return getattr(tp, "__name__", str(tp))


def parse_sets(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["lr=1e-3", "betas=0.5,0.999"]`` -> ``{"lr": "1e-3", "betas": "0.5,0.999"}``."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def load_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    except OSError as exc:  # a directory, no permission, ...
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc.strerror}") from None


def resolve(
    cls: type[T],
    sets: list[str] | tuple[str, ...] = (),
    config_file: str | Path | None = None,
    base: dict[str, Any] | None = None,
) -> T:
    """Defaults, then ``base`` (e.g. a saved run), then the TOML file, then ``--set``."""
    values: dict[str, Any] = dict(base or {})
    if config_file is not None:
        values.update(load_toml(config_file))
    values.update(parse_sets(sets))
    return from_dict(cls, values)


def from_dict(cls: type[T], values: dict[str, Any]) -> T:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(
            f"unknown hyperparameter {', '.join(map(repr, unknown))} for {cls.__name__}. "
            f"Valid keys: {valid_keys_text(cls)}"
        )
    kwargs = {}
    for key, raw in values.items():
        try:
            kwargs[key] = coerce(raw, hints[key])
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"bad value {raw!r} for {key!r} (expected {_type_name(hints[key])}): {exc}. "
                f"Valid keys: {valid_keys_text(cls)}"
            ) from None
    obj = cls(**kwargs)
    check = getattr(obj, "validate", None)
    if callable(check):
        try:
            check()
        except ValueError as exc:
            raise ConfigError(f"invalid hyperparameters for {cls.__name__}: {exc}") from None
    return obj


def coerce(value: Any, tp: Any) -> Any:
    """Convert text (from --set) or a TOML value into type ``tp``, strictly."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if type(None) in args and (value is None or value in ("none", "None", "null")):
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return coerce(value, arg)
            except (TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise ValueError("; ".join(errors))
    if origin is Literal:
        choices = get_args(tp)
        for choice in choices:
            if value == choice or str(value) == str(choice):
                return choice
        raise ValueError(f"must be one of {', '.join(map(str, choices))}")
    if origin in (tuple, list):
        return _coerce_sequence(value, origin, get_args(tp))
    return _coerce_scalar(value, tp)


def _coerce_sequence(value: Any, origin: type, args: tuple) -> Any:
    """``"0.5,0.9"``, ``[0.5, 0.9]`` or ``(0.5, 0.9)`` into a tuple or list of the item types."""
    items = value
    if isinstance(value, str):
        items = [v.strip() for v in value.strip("()[] ").split(",") if v.strip()]
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"expected a sequence, got {type(value).__name__}")
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(items) != len(args):
            raise ValueError(f"expected {len(args)} comma-separated values")
        return tuple(coerce(v, a) for v, a in zip(items, args, strict=True))
    inner = args[0] if args else str
    converted = [coerce(v, inner) for v in items]
    return tuple(converted) if origin is tuple else converted


def _coerce_scalar(value: Any, tp: Any) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ValueError("expected true or false")
    if tp is int:
        if isinstance(value, bool):
            raise TypeError("expected an integer, got a boolean")
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if value.is_integer():
                return int(value)
            raise ValueError("expected an integer")
        return int(str(value).strip())
    if tp is float:
        if isinstance(value, bool):
            raise TypeError("expected a number, got a boolean")
        number = float(value)
        if not math.isfinite(number):  # nan, inf, 1e309: no hyperparameter means that
            raise ValueError("expected a finite number")
        return number
    if tp is str:
        if isinstance(value, (bool, list, tuple, dict)):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        return str(value)
    raise TypeError(f"unsupported hyperparameter type {tp!r}")


def to_dict(obj: Any) -> dict[str, Any]:
    """JSON-friendly dict of a resolved config (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(obj)))
