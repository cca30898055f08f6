"""The software versions recorded beside every run and every evaluation result."""

from __future__ import annotations

import platform

#: ganzoo's own version, held here so that the package face and what records versions read
#: it without importing each other (pyproject.toml states the same number).
__version__ = "0.1.0"


def versions() -> dict[str, str]:
    """ganzoo, torch, torch-fidelity (when installed) and Python versions."""
    import torch

    out = {"ganzoo": __version__, "torch": torch.__version__, "python": platform.python_version()}
    try:
        import torch_fidelity
    except ImportError:  # evaluation extras are optional for training
        return out
    out["torch_fidelity"] = torch_fidelity.__version__
    return out
