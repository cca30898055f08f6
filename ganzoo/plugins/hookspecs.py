"""Every extension point of ganzoo, one hookspec each.

Hooks receive a ``register`` callback rather than returning values, so that one
plugin can register several things and ganzoo can tell which plugin registered
what (for clash errors and ``ganzoo models``).
"""

import pluggy

hookspec = pluggy.HookspecMarker("ganzoo")
hookimpl = pluggy.HookimplMarker("ganzoo")


@hookspec
def register_models(register):
    """Register model classes: ``register(ModelClass)`` (a ``ganzoo.Model`` subclass)."""


@hookspec
def register_datasets(register):
    """Register datasets: ``register(name, loader, description=..., source=...)``."""


@hookspec
def register_feature_extractors(register):
    """Register feature extractors for evaluation: ``register(name, extractor_info)``."""


@hookspec
def register_commands(cli):
    """Add click commands or groups to the ``ganzoo`` command-line group ``cli``."""


@hookspec
def register_pretrained(register):
    """Register pretrained model folders: ``register(name, folder, sha256=..., description=...)``."""


@hookspec
def register_trackers(register):
    """Register experiment trackers: ``register(name, TrackerClass, description=..., extra=...)``."""
