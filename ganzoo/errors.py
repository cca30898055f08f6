"""The one exception type that means "the user can fix this".

The CLI prints a GanzooError as a single line and exits non-zero; anything else
is a bug and keeps its traceback.
"""


class GanzooError(Exception):
    """A problem with the user's input or environment, stated with how to fix it."""


class ConfigError(GanzooError):
    """A --set / --config value that does not fit the model's hyperparameters."""


class PluginError(GanzooError):
    """A plugin failed to load or registered something that clashes."""


class DivergenceError(GanzooError):
    """Training produced a non-finite loss."""
