"""The training options checked against the model, the data, the device and the world,
before anything is trained or written: one line per mistake, saying how to fix it."""

from __future__ import annotations

from typing import Any

import torch

from ..data.base import ImageData
from ..dist import World
from ..errors import GanzooError
from ..model import Model
from .options import TrainOptions

AMP_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


def check_options(
    o: TrainOptions, model: Model, data: ImageData, batch_size: int, device: torch.device,
    world: World, run_dir: Any = None,
) -> None:  # fmt: skip
    if o.amp and device.type != "cuda":
        raise GanzooError(
            "--amp needs a CUDA device (mixed precision is not supported on "
            f"{device.type}); drop --amp or use --device cuda"
        )
    if o.amp_dtype not in AMP_DTYPES:
        raise GanzooError(f"--amp-dtype must be bfloat16 or float16, not {o.amp_dtype!r}")
    if o.amp and o.amp_dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
        raise GanzooError("this GPU does not support bfloat16; use --amp-dtype float16")
    if o.ema and not model.ema_modules:
        raise GanzooError(f"model {model.name!r} declares no modules to average; drop --ema")
    if o.steps < 0 or batch_size < 1:
        raise GanzooError("--steps must be >= 0 and --batch-size >= 1")
    if batch_size > len(data):
        raise GanzooError(
            f"--batch-size {batch_size} is larger than the {len(data)} training images"
        )
    check_batch_split(batch_size, world.size)
    check_in_loop(o, run_dir)
    if o.sync_bn and world.distributed and device.type != "cuda":
        raise GanzooError(
            "--sync-bn needs CUDA (torch's SyncBatchNorm has no CPU implementation); on a "
            "CPU drop it: each process then normalises with its own batch's statistics"
        )


def check_in_loop(o: TrainOptions, run_dir: Any) -> None:
    """In-loop evaluation's options make sense together (its metrics are checked by ``InLoop``)."""
    if o.eval_every is None:
        for flag, value in (("--keep-best", o.keep_best), ("--stop-after", o.stop_after)):
            if value is not None:
                raise GanzooError(f"{flag} needs in-loop evaluation: add --eval-every N")
        return
    if run_dir is None:
        raise GanzooError("--eval-every scores the run's checkpoints: give the run a directory")


def check_batch_split(batch_size: int, processes: int) -> None:
    """The global batch splits evenly over the processes (``--nproc`` checks before launching)."""
    if batch_size % processes:
        raise GanzooError(
            f"--batch-size {batch_size} is the global batch and must divide by the "
            f"{processes} processes; use a multiple of {processes}"
        )
