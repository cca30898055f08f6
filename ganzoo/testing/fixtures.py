"""pytest fixtures for plugin authors, loaded by pytest through ganzoo's ``pytest11`` entry point.

* ``ganzoo_plugin(obj, name=None)``: register a plugin object (usually your
  hooks module) in-process; only ganzoo's own plugins load besides it, plugin
  failures are errors (``GANZOO_STRICT_PLUGINS=1``), and everything is undone
  after the test.
* ``ganzoo_tiny_data``: 256 real mnist5k training images (``ganzoo.ImageData``).
* ``ganzoo_cli(*args)``: run ``ganzoo ARGS`` in-process under that isolation;
  returns click's ``Result`` (``exit_code``, ``stdout``, ``stderr``, ``output``).

Every name starts with ``ganzoo_`` so that it cannot shadow a project's own
fixtures, and nothing here imports torch until a fixture is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def ganzoo_plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    from ganzoo import plugins

    monkeypatch.setenv("GANZOO_LOAD_PLUGINS", "ganzoo")
    monkeypatch.setenv("GANZOO_STRICT_PLUGINS", "1")
    monkeypatch.delenv("GANZOO_PLUGINS_DIR", raising=False)
    plugins.reset()

    def register(obj: Any, name: str | None = None) -> str:
        """Register ``obj`` as plugin ``name`` (default: its module name) for this test."""
        name = name or getattr(obj, "__name__", None) or type(obj).__name__
        plugins.register_plugin(obj, name)
        return name

    try:
        yield register
    finally:
        plugins.reset()


@pytest.fixture
def ganzoo_tiny_data() -> Any:
    from ganzoo.testing import tiny_data

    return tiny_data()


@pytest.fixture
def ganzoo_cli(ganzoo_plugin: Callable[..., str]) -> Callable[..., Any]:
    from click.testing import CliRunner

    from ganzoo.cli import cli

    def run(*args: str, input: str | None = None) -> Any:
        """``ganzoo ARGS``, as the console script runs it, with its exit status and output."""
        return CliRunner().invoke(cli, [str(a) for a in args], input=input, prog_name="ganzoo")

    return run
