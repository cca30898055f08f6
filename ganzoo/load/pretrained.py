"""``ganzoo.from_pretrained``: a model folder or a pretrained name, ready to sample.

Every way this can fail is one line: missing or damaged files, a model whose
plugin is not installed, a plugin version whose networks no longer fit the
weights.  Nothing is unpickled (``folder.py``).

A folder is untrusted input, so it is checked before anything is built from
it, in this order: the config's fields (``fields.py``), the hyperparameters
through the model's own ``Config``, the weights file's header against the
shapes the config makes the model build on the meta device (``header.py``,
``fit.py``), then the weights' sha256.  Only then is the model built and
loaded, so what loading allocates is bounded by the size of the weights file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..device import resolve_device
from ..errors import GanzooError, warn
from .fields import shown
from .fit import build, check_fit, hyperparameters, made_by, misfit, spec_of
from .folder import WEIGHTS, read_config, read_weights, sampling_state
from .header import read_header
from .loaded import LoadedRun
from .target import Target, locate


def from_pretrained(name_or_path: str | Path, device: str | torch.device = "cpu") -> Any:
    """The model of a folder written by ``ganzoo export``, or of a pretrained name (in eval mode)."""
    return load_pretrained(name_or_path, device).model


def load_pretrained(
    name_or_path: str | Path | Target, device: str | torch.device = "cpu"
) -> LoadedRun:
    """The model with what is known about it, as ``ganzoo.load_run`` returns for a checkpoint."""
    folder, expected = locate(name_or_path)
    config = read_config(folder)
    model = _checked_model(config, folder, [config["weights_sha256"], expected or ""])
    model.to(resolve_device(device)).eval()
    return LoadedRun(
        model=model,
        step=config.get("step") or 0,
        ema=bool(config.get("ema")),
        info=config,
        spec=model.spec,
        dataset=_reference_name(config, folder),
        run_dir=None,
        checkpoint_path=folder / WEIGHTS,
    )


def _reference_name(config: dict[str, Any], folder: Path) -> str:
    """The dataset a folder names, as the default reference, unless it names files (``npz:``,
    ``folder:``): those were the exporter's, and a downloaded folder must not point ganzoo at
    a path of this machine (``npz:/dev/zero``)."""
    from ..data.registry import names_a_path

    dataset = config.get("dataset") or ""
    if dataset and names_a_path(dataset):
        warn(
            f"{folder} was trained on {dataset!r}, files of the machine that exported it; "
            "it is not used as a reference: give --dataset to evaluate it"
        )
        return ""
    return dataset


def _checked_model(config: dict[str, Any], folder: Path, hashes: list[str]) -> Any:
    """The folder's model with its weights, built only after every check has passed."""
    cls = _model_class(config, folder)
    where = (folder, config)
    hparams = hyperparameters(cls, config, folder)
    spec = spec_of(config)
    check_fit(cls, hparams, spec, read_header(folder / WEIGHTS), where)
    state = read_weights(folder, hashes)
    model = build(cls, hparams, spec, where)
    _load_into(model, state, config, folder)
    return model


def _model_class(config: dict[str, Any], folder: Path) -> type:
    from .. import plugins

    name = config["model"]
    if name not in plugins.registry("register_models"):
        raise GanzooError(
            f"{folder} holds a {shown(name)} model made by {made_by(config)}, which is not "
            "installed here; install it (ganzoo plugins lists what is)"
        )
    return plugins.lookup("register_models", name, "model").obj


def _load_into(model: Any, state: dict[str, torch.Tensor], config: dict, folder: Path) -> None:
    """Copy the weights in (``check_fit`` compared their shapes; this re-checks what was read)."""
    target = sampling_state(model)
    problems = [f"missing {k}" for k in sorted(set(target) - set(state))]
    problems += [f"unexpected {k}" for k in sorted(set(state) - set(target))]
    problems += [
        f"{k} is {tuple(state[k].shape)}, the model has {tuple(v.shape)}"
        for k, v in target.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if problems:
        raise misfit(folder, config, f"{folder / WEIGHTS}: {'; '.join(problems[:3])}")
    model.load_state_dict({k: v.to(target[k].dtype) for k, v in state.items()}, strict=False)
    # A folder keeps what sampling needs; a likelihood may need more (a VAE's encoder).
    model.sampling_only = set(target) != set(model.state_dict())
