"""``TrainOptions``: how to train, defined once for ``ganzoo.Trainer`` and ``ganzoo train``.

A model's hyperparameters say *what* is trained; these say *how*.  Each field
is also a ``ganzoo train`` option (``ganzoo.commands.options``), with the same
default and help.  This module imports no torch, so ``ganzoo --help`` stays fast.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from ..config import check_ranges, option
from ..seeds import MAX_SEED


@dataclass
class TrainOptions:
    """How to train (as opposed to the model's hyperparameters, which say what)."""

    steps: int = option(2000, "Training steps (total, across resumes).", min=0)
    batch_size: int | None = option(None, "Batch size (default: the model's own).", min=1)
    seed: int = option(
        0, "Seed of the initial weights, the data order and the sample grids.", min=0, max=MAX_SEED
    )
    device: str = option("auto", "auto, cpu, cuda or cuda:N.")
    amp: bool = option(False, "Mixed precision on CUDA.")
    amp_dtype: Literal["bfloat16", "float16"] = option(
        "bfloat16", "Autocast dtype; float16 adds a gradient scaler."
    )
    compile: bool = option(False, "torch.compile the model's networks.")
    channels_last: bool = option(
        False,
        "Channels-last memory layout for convolutional models' weights and batches "
        "(faster convolutions on tensor-core GPUs).",
    )
    fused: bool | None = option(
        None,
        "Fused optimizer kernels: the model's Adam/AdamW/SGD rebuilt with fused=True "
        "(default: on CUDA; on a CPU it measured no faster, so training stays as it was).",
    )
    sync_bn: bool = option(
        False,
        "SyncBatchNorm: batch statistics over all processes' batches (CUDA, several "
        "processes; without it each process normalises its own share of the batch).",
    )
    ema: bool | None = option(None, "EMA of the generator (default: the model's choice).")
    ema_decay: float | None = option(
        None,
        "EMA decay per step, in [0, 1) (default: the model's own; 0.999 unless it declares another).",
        min=0,
        max=1,
        max_open=True,
    )
    ema_start: int = option(0, "Step before which the EMA copies the weights.", min=0)
    grad_clip: float | None = option(
        None, "Clip each optimizer's gradient norm to this value (> 0).", min=0, min_open=True
    )
    checkpoint_every: int = option(500, "Steps between checkpoints.", min=1)
    keep_last: int = option(3, "Checkpoints to keep (0: all).", flag="--keep", min=0)
    sample_every: int = option(500, "Steps between sample grids.", min=1)
    num_samples: int = option(64, "Images per sample grid.", cli=False)
    log_every: int = option(50, "Steps between logged losses.", min=1)
    tracker: str | None = option(
        None,
        "Experiment trackers besides metrics.jsonl, comma-separated: tensorboard, mlflow, or a "
        "plugin's (`ganzoo trackers` lists them).",
    )
    eval_every: int | None = option(
        None,
        "Score the run every N steps while it trains, right after the checkpoint of that step "
        "(default: never). Results go to RUN/eval/, metrics.jsonl and the trackers.",
        min=1,
    )
    eval_metrics: str = option(
        "fid", "Metrics of the in-loop evaluation (as for `ganzoo eval --metrics`)."
    )
    eval_samples: int = option(
        500,
        "Generated images per in-loop evaluation (against the whole reference split, as "
        "`ganzoo eval --num-samples` does).",
        min=10,
    )
    keep_best: str | None = option(
        None,
        "Keep the checkpoint with the best in-loop score as checkpoints/best.pt (never "
        "rotated away): a board column such as fid or kid (default: the first of "
        "--eval-metrics when --eval-every is set; none: keep no best).",
    )
    stop_after: int | None = option(
        None,
        "Stop when this many in-loop evaluations in a row have not beaten the best by more "
        "than half its interval's width (default: train all --steps).",
        min=1,
    )
    resume: bool = option(True, "Continue from the run directory's checkpoints.", cli=False)
    quiet: bool = option(False, "No progress output.", short="-q")
    threads: int | None = option(
        None,
        "CPU threads for torch's math (default: torch's own, one per core). On a machine "
        "shared with other jobs, 1 is often several times faster. A model's numbers may "
        "depend on it (docs/performance.md), so a run resumes with the count it started with.",
        min=1,
        max=4096,
    )

    def __post_init__(self) -> None:
        check_ranges(self)  # NaN, a negative clip, a decay of 1.5: refused before any work

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
