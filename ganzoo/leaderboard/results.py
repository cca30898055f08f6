"""A run's result files as the leaderboard reads them: one unusable file loses only its own row.

A result file may be hand-edited, truncated, or written by another tool.  Each
is checked for the shapes a board is built from before any of it is used, so a
``checkpoint.step`` that is a string, or a ``checkpoint`` that is not an
object, is one warning naming the file, not a traceback that stops the rebuild.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..files.read import JSON_LIMIT, Refused, read_regular, warn_once

#: Where a row's model, family, plugin and parameter count come from in a result written
#: since the evaluator records them (``ganzoo.eval.api``); older results fall back to run.json.
SCORED_MODEL = "scored_model"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _object(value: Any) -> bool:
    return value is None or isinstance(value, dict)


def _checkpoint_problem(checkpoint: Any) -> str | None:
    if checkpoint is None:
        return None
    if not isinstance(checkpoint, dict):
        return f"protocol.checkpoint is {checkpoint!r}, not an object"
    step = checkpoint.get("step")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        return f"protocol.checkpoint.step is {step!r}, not a step number"
    if checkpoint.get("ema") not in (None, True, False):
        return f"protocol.checkpoint.ema is {checkpoint.get('ema')!r}, not true or false"
    return None


def _protocol_problem(protocol: Any) -> str | None:
    if not isinstance(protocol, dict):
        return "it has no protocol object"
    for key in ("generated", "extractor", "reference", "settings"):
        if not _object(protocol.get(key)):
            return f"protocol.{key} is not an object"
    metrics = protocol.get("metrics")
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        return "protocol.metrics is not a list of names"
    ref = protocol.get("reference")
    if ref is not None and not all(k in ref for k in ("dataset", "split", "num_images")):
        return "protocol.reference lacks its dataset, split or number of images"
    generated = protocol.get("generated") or {}
    if not _object(generated.get("sampling")) or not isinstance(
        generated.get("seeds"), list | None
    ):
        return "protocol.generated is malformed"
    nfe = (generated.get("sampling") or {}).get("nfe")
    if nfe is not None and not _number(nfe):
        return "protocol.generated.sampling.nfe is not a number"
    if not isinstance((protocol.get("extractor") or {}).get("name"), str | None):
        return "protocol.extractor.name is not a name"
    return _checkpoint_problem(protocol.get("checkpoint"))


def result_problem(result: Any) -> str | None:
    """Why ``result`` cannot give a board row; None when it can."""
    if not isinstance(result, dict):
        return f"a JSON {type(result).__name__}, not a result object"
    problem = _protocol_problem(result.get("protocol"))
    if problem is not None:
        return problem
    for key in ("metrics", "metrics_std_over_seeds"):
        values = result.get(key)
        if not _object(values) or not all(_number(v) for v in (values or {}).values()):
            return f"{key} is not an object of numbers"
    if result.get("bits_per_dim") is not None and not _number(result["bits_per_dim"]):
        return "bits_per_dim is not a number"
    return None


def read_result(path: Path, run_dir: Path) -> dict[str, Any] | None:
    """The result file ``path`` of ``run_dir``, or None with one warning naming it and why."""
    try:
        result = json.loads(read_regular(path, JSON_LIMIT, run_dir, "the run directory"))
        problem = result_problem(result)
    except Refused as exc:
        problem = exc.reason
    except OSError as exc:  # removed since the listing: nothing to say
        if isinstance(exc, FileNotFoundError):
            return None
        problem = f"it cannot be read ({exc.strerror or exc})"
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError too
        problem = "it is not valid JSON"
    if problem is None:
        return result
    warn_once(f"result {str(path)!r} left out: {problem}", path)
    return None


def run_results(run_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(path, result) of every usable result file in ``RUN/eval/``, by file name."""
    found = []
    for path in sorted((run_dir / "eval").glob("*.json")):
        result = read_result(path, run_dir)
        if result is not None:
            found.append((path, result))
    return found


def scored_model(result: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """Model, family, plugin and parameter count of the row: those of the checkpoint scored.

    The evaluator records them from the model it loaded; a result written before
    it did has only ``run.json``'s claim (``info``) to go on.
    """
    keys = ("model", "family", "plugin", "parameters")
    scored = result.get(SCORED_MODEL)
    if isinstance(scored, dict) and isinstance(scored.get("model"), str):
        count = scored.get("parameters")
        return {
            "model": scored["model"],
            "family": scored.get("family") if isinstance(scored.get("family"), str) else None,
            "plugin": scored.get("plugin") if isinstance(scored.get("plugin"), str) else None,
            "parameters": count if _number(count) else None,
        }
    return {key: info.get(key) for key in keys}
