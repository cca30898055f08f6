"""The extension points themselves: each hookspec documented in one line, the marker exported."""

import inspect

import pytest

import ganzoo
from ganzoo import plugins
from ganzoo.plugins import hookspecs

SPECS = [
    name
    for name, obj in vars(hookspecs).items()
    if inspect.isfunction(obj) and hasattr(obj, "ganzoo_spec")
]


def test_the_required_hooks_exist():
    assert set(SPECS) >= {
        "register_models",
        "register_datasets",
        "register_feature_extractors",
        "register_commands",
    }


@pytest.mark.parametrize("name", SPECS)
def test_every_hookspec_has_a_one_line_docstring(name):
    doc = getattr(hookspecs, name).__doc__
    assert doc and doc.strip(), f"hookspec {name} has no docstring"
    assert "\n" not in doc.strip(), f"hookspec {name}: the docstring must be one line"


@pytest.mark.parametrize("name", SPECS)
def test_every_hookspec_is_known_to_the_plugin_manager(name):
    assert getattr(plugins.pm.hook, name).has_spec()


def test_hookimpl_is_the_public_marker():
    assert ganzoo.hookimpl is hookspecs.hookimpl

    class Plugin:
        @ganzoo.hookimpl
        def register_models(self, register):
            pass

    assert hasattr(Plugin.register_models, "ganzoo_impl")
