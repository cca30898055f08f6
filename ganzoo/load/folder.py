"""The model folder's layout, and reading one (``ganzoo/pretrained/write.py`` writes it).

The layout is the one the Hugging Face hub's ``PyTorchModelHubMixin`` uses, so
a folder can be uploaded and downloaded with the hub's own tools:

FOLDER/model.safetensors   the weights ``sample`` needs (the model's ``ema_modules``), no code
FOLDER/config.json         model, plugin and version, hyperparameters, spec, step, sha256
FOLDER/README.md           the model card (``ganzoo/pretrained/card.py``)
FOLDER/samples.png         the run's sample grid at that step, when it had one
FOLDER/eval.json           the evaluation results the card quotes, with their protocols

Loading never unpickles: safetensors holds raw tensors only, and the folder's
config is JSON, read with a bound on its size and its fields checked
(``fields.py``) before anything is built from them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GanzooError
from .fields import check_fields

if TYPE_CHECKING:  # pragma: no cover
    import torch

FORMAT = 1
#: A config.json is a few kilobytes; a file of megabytes is not one.
MAX_CONFIG_BYTES = 2**20
WEIGHTS, CONFIG, CARD, GRID, RESULTS = (
    "model.safetensors",
    "config.json",
    "README.md",
    "samples.png",
    "eval.json",
)
REQUIRED = ("ganzoo_format", "model", "hyperparameters", "spec", "weights_sha256")


def is_model_folder(path: str | Path) -> bool:
    path = Path(path)
    return path.is_dir() and (path / CONFIG).is_file() and (path / WEIGHTS).is_file()


def sampling_state(model: Any) -> dict[str, torch.Tensor]:
    """The tensors ``sample`` needs: those of the model's ``ema_modules`` (all, if none)."""
    state = model.state_dict()
    prefixes = tuple(f"{name}." for name in model.ema_modules)
    return {k: v for k, v in state.items() if not prefixes or k.startswith(prefixes)}


def read_config(folder: Path) -> dict[str, Any]:
    """The folder's config.json, its fields checked for type and range (``fields.py``).

    The file is untrusted: it is read only up to ``MAX_CONFIG_BYTES``, and JSON
    nested too deeply for the parser is refused like any other unreadable file.
    """
    path = folder / CONFIG
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise GanzooError(
                f"{path} is larger than {MAX_CONFIG_BYTES // 2**20} MiB, too large for a model "
                "config; export the model again"
            )
        config = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise GanzooError(f"{path} cannot be read as JSON ({why})") from None
    if not isinstance(config, dict):
        raise GanzooError(f"{path} is not a ganzoo model config")
    missing = [key for key in REQUIRED if key not in config]
    if missing:
        raise GanzooError(f"{path} lacks {', '.join(missing)}; it was not written by ganzoo export")
    check_fields(config, path, FORMAT)
    return config


def read_weights(folder: Path, expected: list[str]) -> dict[str, torch.Tensor]:
    """The folder's tensors, after checking their bytes against every expected sha256."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        data = (folder / WEIGHTS).read_bytes()
    except OSError as exc:
        raise GanzooError(f"cannot read {folder / WEIGHTS}: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    for sha in expected:
        if sha and digest != sha:
            raise GanzooError(
                f"{folder / WEIGHTS} has sha256 {digest[:12]}..., not the expected {sha[:12]}...: "
                "it was changed or damaged; export or download the model again"
            )
    try:
        return load(data)
    except (SafetensorError, ValueError, OSError) as exc:
        raise GanzooError(
            f"{folder / WEIGHTS} is not a readable safetensors file ({exc})"
        ) from None
