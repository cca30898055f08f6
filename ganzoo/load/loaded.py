"""What loading a TARGET gives: one ``LoadedRun``, whatever the TARGET named.

A run directory, a checkpoint, a model folder and a pretrained name all become
the same record, so sampling, evaluation and export never ask where a model
came from beyond ``run_dir`` (None without a run) and ``checkpoint_path``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: ``--ema/--no-ema`` wherever a TARGET is loaded (sample, eval, export): one choice, one wording.
EMA_HELP = "Use the EMA weights (default: when the run has them)."


@dataclass
class LoadedRun:
    """A model restored from a checkpoint or a model folder, ready to sample or evaluate."""

    model: Any
    step: int
    ema: bool
    info: dict[str, Any]
    spec: Any
    dataset: str
    run_dir: Path | None
    checkpoint_path: Path
    elapsed_s: float | None = None
    device: str | None = None
    #: Set when the EMA weights are still mostly the weights it started from (``young_ema``).
    ema_note: str | None = None
    #: Set for ``--checkpoint best``: how the checkpoint was chosen (on the evaluation
    #: reference, so its score there is optimistic).
    selected: str | None = None


def young_ema(ema_state: dict[str, Any], step: int, stale: float = 0.25) -> str | None:
    """Why EMA samples may look untrained, or None: after k averaged steps at decay d, a
    share d**k of the average is still the weights at its start step (untrained at 0)."""
    decay, start = float(ema_state.get("decay", 0.0)), int(ema_state.get("start", 0))
    averaged = step - start
    if averaged <= 0 or not 0 < decay < 1 or decay**averaged < stale:
        return None
    enough = start + math.ceil(math.log(0.05) / math.log(decay))
    return (
        f"the EMA weights have averaged {averaged} steps at decay {decay:g}, so "
        f"{decay**averaged:.0%} of them are still the weights of step {start}"
        f"{' (untrained)' if start == 0 else ''}; samples improve after about {enough} steps, "
        "or use --no-ema for the trained weights"
    )
