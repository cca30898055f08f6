"""The software versions recorded beside every run and every evaluation result."""

from __future__ import annotations

import platform


def versions() -> dict[str, str]:
    """ganzoo, torch, torch-fidelity (when installed) and Python versions."""
    import torch

    from . import __version__

    out = {"ganzoo": __version__, "torch": torch.__version__, "python": platform.python_version()}
    try:
        import torch_fidelity
    except ImportError:  # evaluation extras are optional for training
        return out
    out["torch_fidelity"] = torch_fidelity.__version__
    return out
