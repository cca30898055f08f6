"""Click options derived from a dataclass: each option set is defined once, in its dataclass.

``TrainOptions``, ``EvalRequest`` and every other option set own their fields,
defaults and help; the library takes the dataclass, and the commands get
*all* their options from one here (``FieldOption`` marks them, and a test
proves no command has another kind), so a default can never differ between
``ganzoo.evaluate`` and ``ganzoo eval`` (torch-fidelity's ``defaults.py``
feeding its API and its CLI is the model).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import click

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def options_from(cls: type, exclude: Iterable[str] = ()) -> Callable[[F], F]:
    """A decorator adding one click option per field of ``cls`` (see ``config.option``)."""
    skip = set(exclude)

    def decorate(function: F) -> F:
        hints = typing.get_type_hints(cls)
        for field in reversed(dataclasses.fields(cls)):
            if field.name in skip or not field.metadata.get("cli", True):
                continue
            function = _option(cls, field, hints[field.name])(function)
        return function

    return decorate


class FieldOption(click.Option):
    """A click option derived from a dataclass field; ``source`` names it ("Class.field"), so a
    test can prove every built-in command's options come from a dataclass."""

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source = source


def pop_options(cls: type[T], kwargs: dict[str, Any]) -> T:
    """Build ``cls`` from a command's keyword arguments, removing the fields it consumed."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{name: kwargs.pop(name) for name in list(kwargs) if name in names})


def _option(cls: type, field: dataclasses.Field, hint: Any) -> Callable[[F], F]:
    meta = field.metadata
    flag = meta.get("flag") or "--" + field.name.replace("_", "-")
    decls = [flag, *meta.get("aliases", ()), *([meta["short"]] if "short" in meta else [])]
    kwargs: dict[str, Any] = {"help": meta.get("help", ""), "metavar": meta.get("metavar")}
    kwargs.update(cls=FieldOption, source=f"{cls.__name__}.{field.name}")
    if meta.get("expose") is False:  # read before click parses (the root group's options)
        kwargs["expose_value"] = False
    if field.default is dataclasses.MISSING:  # a field without a default: the option is required
        kwargs["required"] = True
    else:
        kwargs["default"] = field.default
    base, optional = _unwrap(hint)
    if get_origin(base) is tuple:  # a repeatable option, e.g. --set KEY=VALUE
        kwargs["multiple"] = True
    elif base is bool:
        # None means "the model's or run's own choice", and a flag that is on by default
        # needs a way off: both are --x/--no-x.
        if optional or field.default is True:
            decls[0] = f"{flag}/--no-{flag[2:]}"
        else:
            kwargs["is_flag"] = True
    else:
        kwargs["type"] = _click_type(base, meta)
        kwargs["show_default"] = field.default not in (None, dataclasses.MISSING)
    return click.option(*decls, field.name, **kwargs)


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """``int | None`` -> (int, True); ``int`` -> (int, False)."""
    if get_origin(hint) in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        return args[0], len(args) < len(get_args(hint))
    return hint, False


class CheckpointType(click.ParamType):
    """A checkpoint step (an integer >= 0) or ``best`` (``--keep-best``'s ``best.pt``)."""

    name = "STEP|best"

    def convert(self, value: Any, param: Any, ctx: Any) -> int | str:
        text = str(value).strip().lower()
        if text == "best":
            return text
        try:
            step = int(text)
        except ValueError:
            step = -1
        if step < 0:
            self.fail(f"{value!r} is neither a step (an integer >= 0) nor best", param, ctx)
        return step


def _click_type(base: Any, meta: typing.Mapping[str, Any]) -> click.ParamType:
    if meta.get("checkpoint"):
        return CheckpointType()
    if get_origin(base) is Literal or "choices" in meta:
        choices = [str(c) for c in meta.get("choices", get_args(base))]
        return click.Choice(choices, case_sensitive=meta.get("case_sensitive", True))
    bounds = {"min": meta.get("min"), "max": meta.get("max")}
    if base is int:
        return click.IntRange(**bounds) if meta.keys() & bounds.keys() else click.INT
    if base is float:  # NaN passes any range: the dataclass's check_ranges refuses it
        open_ends = {
            "min_open": meta.get("min_open", False),
            "max_open": meta.get("max_open", False),
        }
        return (
            click.FloatRange(**bounds, **open_ends) if meta.keys() & bounds.keys() else click.FLOAT
        )
    if meta.get("directory"):
        return click.Path(file_okay=False)
    if meta.get("file"):
        return click.Path(dir_okay=False)
    return click.STRING
