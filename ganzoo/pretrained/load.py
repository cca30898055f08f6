"""``ganzoo.from_pretrained``: a model folder or a pretrained name, ready to sample.

Every way this can fail is one line: missing or damaged files, a model whose
plugin is not installed, a plugin version whose networks no longer fit the
weights.  Nothing is unpickled (``folder.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..errors import ConfigError, GanzooError
from .folder import WEIGHTS, read_config, read_weights, sampling_state
from .registry import locate


def from_pretrained(name_or_path: str | Path, device: str | torch.device = "cpu") -> Any:
    """The model of a folder written by ``ganzoo export``, or of a pretrained name (in eval mode)."""
    return load_pretrained(name_or_path, device).model


def load_pretrained(name_or_path: str | Path, device: str | torch.device = "cpu") -> Any:
    """The model with what is known about it, as ``ganzoo.load_run`` returns for a checkpoint."""
    from ..device import resolve_device
    from ..train.restore import LoadedRun

    folder, expected = locate(name_or_path)
    config = read_config(folder)
    model = _build(config, folder)
    state = read_weights(folder, [config["weights_sha256"], expected or ""])
    _load_into(model, state, config, folder)
    model.to(resolve_device(device)).eval()
    return LoadedRun(
        model=model,
        step=int(config.get("step") or 0),
        ema=bool(config.get("ema")),
        info=config,
        spec=model.spec,
        dataset=config.get("dataset") or "",
        run_dir=None,
        checkpoint_path=folder / WEIGHTS,
    )


def _made_by(config: dict[str, Any]) -> str:
    plugin, version = config.get("plugin") or "?", config.get("plugin_version")
    return f"plugin {plugin!r}" + (f" version {version}" if version else "")


def _build(config: dict[str, Any], folder: Path) -> Any:
    from .. import plugins
    from ..data.base import DatasetSpec
    from ..model import build_model

    name = config["model"]
    if name not in plugins.registry("register_models"):
        raise GanzooError(
            f"{folder} holds a {name!r} model made by {_made_by(config)}, which is not installed "
            "here; install it (ganzoo plugins lists what is)"
        )
    try:
        spec = DatasetSpec(
            **{**config["spec"], "value_range": tuple(config["spec"]["value_range"])}
        )
        return build_model(name, spec, config["hyperparameters"])
    except (ConfigError, TypeError, KeyError) as exc:
        raise GanzooError(
            f"{folder} does not fit the installed {name!r} model ({exc}); it was made by "
            f"{_made_by(config)}: install that version"
        ) from None


def _load_into(model: Any, state: dict[str, torch.Tensor], config: dict, folder: Path) -> None:
    target = sampling_state(model)
    problems = [f"missing {k}" for k in sorted(set(target) - set(state))]
    problems += [f"unexpected {k}" for k in sorted(set(state) - set(target))]
    problems += [
        f"{k} is {tuple(state[k].shape)}, the model has {tuple(v.shape)}"
        for k, v in target.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if problems:
        raise GanzooError(
            f"{folder / WEIGHTS} does not fit the installed {config['model']!r} model "
            f"({'; '.join(problems[:3])}); it was made by {_made_by(config)}: install that version"
        )
    model.load_state_dict({k: v.to(target[k].dtype) for k, v in state.items()}, strict=False)
