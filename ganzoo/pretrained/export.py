"""``ganzoo export``: a run's checkpoint as a model folder with its card.

The folder holds what sampling needs (the model's ``ema_modules``, EMA weights
when the run has them unless ``--no-ema``), the evaluation results stored for
that checkpoint, and the card quoting them.  Weights stored in a lower
precision are scored again under each stored protocol, so a card never quotes
a number its own weights did not produce.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from ..errors import GanzooError, warn
from ..files.read import JSON_LIMIT, Refused, read_png, read_regular
from ..load.folder import CARD, FORMAT, GRID, RESULTS, sampling_state
from ..load.run import load_run
from .card import render
from .options import DTYPE_NAMES, ExportOptions
from .write import write_folder

#: Each precision the option set names, as a torch dtype.
DTYPES = dict(zip(DTYPE_NAMES, (torch.float32, torch.float16, torch.bfloat16), strict=True))


def export_run(target: str | Path, out: str | Path, **options: Any) -> Path:
    """Write ``out`` from a run directory or checkpoint file; returns the folder.

    ``options`` are ``ExportOptions``' other fields (``checkpoint``, ``ema``,
    ``dtype``, ``license``, ``name``), with its defaults and checks.
    """
    return write_export(target, ExportOptions(out=str(out), **options))


def write_export(target: str | Path, opts: ExportOptions) -> Path:
    """``ganzoo export``: the folder ``opts.out`` written from ``target``'s checkpoint."""
    out, dtype, license, name = Path(opts.out), opts.dtype, opts.license, opts.name
    loaded = load_run(target, opts.checkpoint, device="cpu", use_ema=opts.ema)
    tensors = _cast(sampling_state(loaded.model), DTYPES[dtype])
    config = _config(loaded, name or out.name, dtype, license, tensors)
    results = _stored_results(loaded)
    if dtype != "float32" and results:
        loaded.model.load_state_dict(tensors, strict=False)  # score what is shipped
        results = [_rescore(loaded.model, r) for r in results]
    grid = _grid(loaded)
    texts = {
        CARD: render(config, results, grid is not None),
        RESULTS: json.dumps(results, indent=2, sort_keys=True) + "\n",
    }
    with tempfile.TemporaryDirectory(prefix="ganzoo-export-") as staging:
        checked = None
        if grid is not None:  # the checked bytes travel, not the run's path to them
            checked = Path(staging) / GRID
            checked.write_bytes(grid)
        return write_folder(out, tensors, config, texts, checked)


def _cast(state: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Floating tensors in ``dtype``; integer buffers (batch-norm counters) unchanged."""
    return {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}


def _config(loaded: Any, name: str, dtype: str, license: str, tensors: dict) -> dict[str, Any]:
    from .. import plugins
    from ..versions import __version__

    info = loaded.info
    run = _run_file(loaded.run_dir) if loaded.run_dir else {}
    versions = {i.name: i.version for i in plugins.plugin_infos()}
    return {
        "ganzoo_format": FORMAT,
        "name": name,
        "model": info["model"],
        "family": info.get("family"),
        "plugin": info.get("plugin"),
        "plugin_version": versions.get(info.get("plugin") or ""),
        "hyperparameters": info["hyperparameters"],
        "spec": info["spec"],
        "dataset": info.get("dataset"),
        "split": info.get("split"),  # what memorization compares with (held-out images)
        "step": loaded.step,
        "ema": loaded.ema,
        "dtype": dtype,
        "parameters": sum(t.numel() for t in tensors.values()),
        "license": license,
        "dataset_source": _dataset_source(info.get("dataset") or ""),
        "ganzoo_version": __version__,
        "training": {
            "command": run.get("command"),
            "seed": info.get("seed"),
            "batch_size": info.get("batch_size"),
            "git_commit": run.get("git_commit"),
            "versions": run.get("versions"),
            **_trained(loaded.run_dir, loaded.step),
        },
    }


def _run_file(run_dir: Path, name: str = "run.json") -> dict[str, Any]:
    """``run.json`` (or ``progress.json``), read by the rule for the folder's files: what it
    holds is copied into a folder meant for upload, so one that leaves the run directory is not."""
    path = run_dir / name
    try:
        data = json.loads(read_regular(path, JSON_LIMIT, run_dir, "the run directory"))
    except FileNotFoundError:
        return {}
    except Refused as exc:
        warn(f"{str(path)!r} left out of the export: {exc.reason}")
        return {}
    except (OSError, ValueError) as exc:
        raise GanzooError(f"{path} cannot be read ({exc}); the run directory is damaged") from None
    return data if isinstance(data, dict) else {}


def _trained(run_dir: Path | None, step: int) -> dict[str, Any]:
    """Wall time and device up to checkpoint ``step`` (progress.json), so a board can place
    the model by training cost; nothing when the run did not record them."""
    progress = _run_file(run_dir, "progress.json") if run_dir else {}
    checkpoints = progress.get("checkpoints")
    entry = checkpoints.get(str(step)) if isinstance(checkpoints, dict) else None
    seconds = entry.get("elapsed_s") if isinstance(entry, dict) else None
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        return {}
    device = entry.get("device")
    return {"elapsed_s": seconds, "device": device if isinstance(device, str) else None}


def _dataset_source(dataset: str) -> str | None:
    """Where the training data came from, as its plugin registered it (credits included)."""
    from .. import plugins

    entry = plugins.registry("register_datasets").get(dataset.partition(":")[0])
    return entry.extra.get("source") if entry is not None else None


def _stored_results(loaded: Any) -> list[dict[str, Any]]:
    """The run's results for exactly this checkpoint and these weights (EMA or not)."""
    from ..leaderboard.results import run_results

    if loaded.run_dir is None:
        return []
    found = []
    for _, result in run_results(loaded.run_dir):  # checked: a malformed file is one warning
        point = result["protocol"].get("checkpoint") or {}
        if point.get("step") == loaded.step and point.get("ema") == loaded.ema:
            found.append(for_card(result))
    return found


#: What a card's result leaves out: where it was scored from (a local path) and each
#: seed's numbers.  Intervals, bootstrap replicates and sampling time stay, so a board
#: that ranks the folder from its card gets interval, paired group and cost columns.
NOT_ON_CARD = ("target", "per_seed")


def for_card(result: dict[str, Any]) -> dict[str, Any]:
    """A result as ``eval.json`` keeps it."""
    from ..eval.protocol import protocol_id

    kept = {key: value for key, value in result.items() if key not in NOT_ON_CARD}
    return {**kept, "protocol_id": protocol_id(result["protocol"])}


def _rescore(model: Any, result: dict[str, Any]) -> dict[str, Any]:
    from ..eval.api import evaluate
    from ..eval.request import EvalRequest

    again = evaluate(model, EvalRequest.from_protocol(result["protocol"]), write=False)
    protocol = {**again.protocol, "checkpoint": result["protocol"]["checkpoint"]}
    return for_card({**again.as_dict(), "protocol": protocol})


def _grid(loaded: Any) -> bytes | None:
    """The run's grid at the exported step, only if it is a PNG inside the run directory.

    The folder is meant for upload: a ``samples/step-*.png`` symlinked to a
    secret file is left out with a warning (``ganzoo.files.read``).
    """
    if loaded.run_dir is None:
        return None
    grid = loaded.run_dir / "samples" / f"step-{loaded.step:08d}.png"
    if not os.path.lexists(grid):
        return None
    return read_png(grid, loaded.run_dir, "sample grid", "the run directory")
