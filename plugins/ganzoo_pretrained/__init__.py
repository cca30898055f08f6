"""ganzoo's pretrained models: the reference runs' final checkpoints, shipped in the package.

Each folder under ``models/`` was written by ``ganzoo export`` (see
``scripts/ship_pretrained.py``, which also writes ``shipped.py``); the sha256
of each weights file is held in ``shipped.py``, so a changed file is refused.
Registered through the same ``register_pretrained`` hook a third-party zoo uses.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ganzoo import hookimpl

from .shipped import SHIPPED

MODELS = Path(__file__).with_name("models")


@hookimpl
def register_pretrained(register: Callable[..., None]) -> None:
    for name, (sha256, description) in SHIPPED.items():
        register(name, MODELS / name, sha256=sha256, description=description)
