"""Train every registered model for a few steps with a fixed seed and print what it learned, hashed.

Refactors of the trainer or the models must not change training: run this
before and after, and compare.  Two digests per model: the checkpoint file's
sha256, and a sha256 over the tensors that training produced (model, EMA,
optimizer and scheduler states, in key order), which stays equal when only
metadata stored beside them changes (e.g. a new hyperparameter with the old
behaviour as its default).

    python scripts/checkpoint_digest.py --steps 50 > digests.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import torch

import ganzoo
from ganzoo import plugins
from ganzoo.train.checkpoint import list_checkpoints, load_checkpoint


def tensor_digest(value: Any, digest: Any, prefix: str = "") -> None:
    """Feed every tensor and number below ``value`` into ``digest``, in a fixed order."""
    if isinstance(value, torch.Tensor):
        digest.update(f"{prefix}|{value.dtype}|{tuple(value.shape)}|".encode())
        digest.update(value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            tensor_digest(value[key], digest, f"{prefix}/{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            tensor_digest(item, digest, f"{prefix}/{i}")
    elif isinstance(value, int | float | bool) or value is None:
        digest.update(f"{prefix}={value!r}|".encode())


def train(name: str, steps: int, out: Path) -> dict[str, str]:
    data = ganzoo.load_dataset("mnist5k", "train")
    cls = ganzoo.model_class(name)
    torch.manual_seed(0)
    model = cls(cls.Config(), data.spec)
    options = ganzoo.TrainOptions(steps=steps, seed=0, device="cpu", quiet=True)
    ganzoo.Trainer(model, data, options, run_dir=out).fit()
    path = list_checkpoints(out / "checkpoints")[-1][1]
    state = load_checkpoint(path)
    learned = hashlib.sha256()
    for key in ("model", "ema", "optimizers", "schedulers"):
        tensor_digest(state.get(key), learned, key)
    return {
        "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "tensors_sha256": learned.hexdigest(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--models", help="comma-separated (default: every registered model)")
    args = parser.parse_args()
    registered = plugins.registry("register_models")
    names = (
        args.models.split(",")
        if args.models
        else sorted(n for n, reg in registered.items() if not reg.extra.get("alias_of"))
    )
    with tempfile.TemporaryDirectory() as tmp:
        result = {name: train(name, args.steps, Path(tmp, name)) for name in names}
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
