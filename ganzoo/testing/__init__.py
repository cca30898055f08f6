"""Conformance checks for plugin authors: the public testing API of ganzoo.

``check_model(ModelClass)``, ``check_dataset(name)`` and ``check_extractor(name)``
drive a plugin's contribution the way ganzoo does and raise a
``ConformanceError`` (an ``AssertionError``) with one line per failed check,
each saying what to fix; ``ganzoo check NAME`` prints the same checks.  The
pytest fixtures in ``ganzoo.testing.fixtures`` (loaded automatically once
ganzoo is installed) give each test an isolated plugin manager, tiny real
data and a CLI runner.

Importing this module is cheap; the checks import torch when they run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .report import Check, ConformanceError, Report

if TYPE_CHECKING:  # pragma: no cover
    from ..data.base import DatasetSpec, ImageData

__all__ = [
    "Check",
    "ConformanceError",
    "Report",
    "check_dataset",
    "check_extractor",
    "check_model",
    "tiny_data",
]


def check_model(
    model: type | str, spec: DatasetSpec | None = None, config: Any = None, *, raises: bool = True
) -> Report:
    """Check a ``ganzoo.Model`` subclass (or registered name) on ``spec`` (default 1x28x28).

    ``config`` (a dict of hyperparameters or a ``Config``) keeps the networks
    small; every check uses it, except that the ``--set`` round trip checks the
    defaults.  With ``raises=False`` the report is returned even on failure.
    """
    from ..model import model_class
    from .models import model_report

    cls = model_class(model) if isinstance(model, str) else model
    report = model_report(cls, spec, config)
    return report.raise_for_failures() if raises else report


def check_dataset(name: str, *, data_root: Any = None, raises: bool = True) -> Report:
    """Check a registered dataset (``NAME`` or ``NAME:ARG``): format, labels, splits, stability."""
    from .data import dataset_report

    report = dataset_report(name, data_root)
    return report.raise_for_failures() if raises else report


def check_extractor(name: str, *, weights: str | None = None, raises: bool = True) -> Report:
    """Check a registered feature extractor: class, weights, features of real images."""
    from .extractors import extractor_report

    report = extractor_report(name, weights)
    return report.raise_for_failures() if raises else report


def tiny_data(spec: DatasetSpec | None = None, n: int = 256, split: str = "train") -> ImageData:
    """``n`` real mnist5k images (at ``spec``'s shape when given): data for fast, real tests."""
    from .data import tiny_data as load

    return load(spec, n, split)
