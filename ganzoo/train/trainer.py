"""``Trainer``: the one training loop every model family goes through.

The model says *what* to optimise (phases and their losses); the trainer does
everything else: device placement, autocast and gradient scaling, gradient
clipping, the non-finite-loss guard, EMA, seeding, logging, sample grids and
atomic checkpoints with exact resume.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_write, make_dirs
from ..data.base import ImageData
from ..device import resolve_device
from ..errors import DivergenceError, GanzooError, warn
from ..model import Model
from .batches import Batches
from .checkpoint import (
    CheckpointError,
    checkpoint_path,
    choose_checkpoint,
    list_checkpoints,
    prune_checkpoints,
    save_checkpoint,
)
from .ema import EMA
from .logger import Meter, RunLogger, save_grid
from .run import check_resumable, new_run_info, read_run_info, run_identity, write_run_info

#: Seed offset of the fixed noise behind every sample grid, so grids are comparable over time.
GRID_SEED_OFFSET = 7_919


@dataclass
class TrainOptions:
    """How to train (as opposed to the model's hyperparameters, which say what)."""

    steps: int = 2000
    batch_size: int | None = None  # None: the model's default_batch_size
    seed: int = 0
    device: str = "auto"
    amp: bool = False
    amp_dtype: str = "bfloat16"  # or "float16" (uses a gradient scaler)
    compile: bool = False
    ema: bool | None = None  # None: the model's ema_by_default
    ema_decay: float = 0.999
    ema_start: int = 0
    grad_clip: float | None = None
    checkpoint_every: int = 500
    keep_last: int = 3  # 0 keeps every checkpoint (for FID-vs-steps curves)
    sample_every: int = 500
    num_samples: int = 64
    log_every: int = 50
    resume: bool = True
    quiet: bool = False


@dataclass
class TrainResult:
    step: int
    elapsed_s: float
    checkpoint: Path | None
    resumed_from: int | None


class Trainer:
    """Trains ``model`` on ``data``; with a ``run_dir`` it checkpoints, logs and resumes."""

    def __init__(
        self,
        model: Model,
        data: ImageData,
        options: TrainOptions | None = None,
        run_dir: str | Path | None = None,
        run_info: dict[str, Any] | None = None,
    ) -> None:
        self.options = options or TrainOptions()
        self.model = model
        self.data = data
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.device = resolve_device(self.options.device)
        self.batch_size = self.options.batch_size or model.default_batch_size
        self.step = 0
        self.elapsed_before = 0.0
        self._check_options()

        model.to(self.device)
        model.train()
        if self.options.compile:
            for child in model.children():
                child.compile()
        self.optimizers = model.configure_optimizers()
        self.schedulers = model.configure_schedulers(self.optimizers)
        unknown = sorted(set(self.schedulers) - set(self.optimizers))
        if unknown:
            raise GanzooError(f"model {model.name!r} schedules unknown optimizers {unknown}")
        self.phases = model.phases()
        for phase in self.phases:
            if phase.optimizer not in self.optimizers:
                raise GanzooError(
                    f"model {model.name!r}: phase {phase.name!r} uses optimizer "
                    f"{phase.optimizer!r}, but it only has {sorted(self.optimizers)}"
                )
        self.autocast_dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}[
            self.options.amp_dtype
        ]
        use_scaler = self.options.amp and self.autocast_dtype == torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=use_scaler) if use_scaler else None
        use_ema = model.ema_by_default if self.options.ema is None else self.options.ema
        self.ema = (
            EMA(model, model.ema_modules, self.options.ema_decay, self.options.ema_start)
            if use_ema
            else None
        )
        self.batches = Batches(data, self.batch_size, self.options.seed, self.device)
        identity = run_identity(model, data, self.options.seed, self.batch_size, use_ema)
        #: Stored in every checkpoint and in run.json; ``run_info`` overrides (e.g. the
        #: dataset name as the user typed it).
        self.run_info = {**identity, **(run_info or {})}

    def _check_options(self) -> None:
        o = self.options
        if o.amp and self.device.type != "cuda":
            raise GanzooError(
                "--amp needs a CUDA device (mixed precision is not supported on "
                f"{self.device.type}); drop --amp or use --device cuda"
            )
        if o.amp_dtype not in ("bfloat16", "float16"):
            raise GanzooError(f"--amp-dtype must be bfloat16 or float16, not {o.amp_dtype!r}")
        if o.amp and o.amp_dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
            raise GanzooError("this GPU does not support bfloat16; use --amp-dtype float16")
        if self.options.ema and not self.model.ema_modules:
            raise GanzooError(
                f"model {self.model.name!r} declares no modules to average; drop --ema"
            )
        if o.steps < 0 or self.batch_size < 1:
            raise GanzooError("--steps must be >= 0 and --batch-size >= 1")
        if self.batch_size > len(self.data):
            raise GanzooError(
                f"--batch-size {self.batch_size} is larger than the {len(self.data)} training images"
            )

    # ----------------------------------------------------------------- loop

    def fit(self) -> TrainResult:
        if self.run_dir is not None:
            check_resumable(self.run_dir, self.run_info)
            make_dirs(self.run_dir)
            if read_run_info(self.run_dir) is None:
                options = {**asdict(self.options), "batch_size": self.batch_size}
                options["device"] = str(self.device)
                write_run_info(
                    self.run_dir,
                    new_run_info(
                        **self.run_info, parameters=self.model.num_parameters(), options=options
                    ),
                )
        resumed_from = self._resume() if self.run_dir and self.options.resume else None
        if resumed_from is None:
            torch.manual_seed(self.options.seed)
            if self.run_dir is not None:
                # The untrained model is the baseline every metric curve starts from.
                self.save_samples(self.run_dir / "samples" / f"step-{0:08d}.png")
                self._checkpoint(0.0)
        logger = RunLogger(self.run_dir, self.options.steps, self.step, self.options.quiet)
        if resumed_from is not None:
            logger.message(f"resumed from step {resumed_from} ({self.run_dir})")
        if self.step >= self.options.steps:
            logger.message(
                f"already trained for {self.step} steps (>= --steps {self.options.steps})"
            )
        meter = Meter()
        started = time.perf_counter()
        last_checkpoint = self._latest_checkpoint_path()
        try:
            while self.step < self.options.steps:
                try:
                    self._train_step(meter)
                except DivergenceError as exc:
                    where = last_checkpoint or "none written yet"
                    raise DivergenceError(
                        f"{exc}; last good checkpoint: {where} (intact)"
                    ) from None
                self.step += 1
                if self.step % self.options.log_every == 0 or self.step == self.options.steps:
                    logger.log(self.step, meter.flush())
                if self.run_dir is None:
                    continue
                final = self.step == self.options.steps
                if final or self.step % self.options.sample_every == 0:
                    self.save_samples(self.run_dir / "samples" / f"step-{self.step:08d}.png")
                if final or self.step % self.options.checkpoint_every == 0:
                    elapsed = self.elapsed_before + time.perf_counter() - started
                    last_checkpoint = self._checkpoint(elapsed)
        finally:
            logger.close()
        elapsed = self.elapsed_before + time.perf_counter() - started
        return TrainResult(self.step, elapsed, last_checkpoint, resumed_from)

    def _train_step(self, meter: Meter) -> None:
        batch = None
        for phase in self.phases:
            optimizer = self.optimizers[phase.optimizer]
            for _ in range(phase.repeat):
                if batch is None or phase.new_batch:
                    batch = self.batches.next()
                with self._autocast():
                    loss, logs = phase.loss(batch)
                value = loss.item()
                if not math.isfinite(value):
                    raise DivergenceError(
                        f"non-finite loss ({value}) in phase {phase.name!r} at step {self.step + 1}"
                    )
                optimizer.zero_grad(set_to_none=True)
                if self.scaler is not None:
                    self.scaler.scale(loss).backward()
                    self._clip(optimizer, unscale=True)
                    self.scaler.step(optimizer)
                    self.scaler.update()
                else:
                    loss.backward()
                    self._clip(optimizer, unscale=False)
                    optimizer.step()
                if phase.optimizer in self.schedulers:
                    self.schedulers[phase.optimizer].step()
                meter.add(phase.name, {"loss": value, **logs})
        if self.ema is not None:
            self.ema.update(self.model, self.step + 1)

    def _clip(self, optimizer: torch.optim.Optimizer, unscale: bool) -> None:
        if self.options.grad_clip is None:
            return
        if unscale:
            self.scaler.unscale_(optimizer)
        params = [p for group in optimizer.param_groups for p in group["params"]]
        torch.nn.utils.clip_grad_norm_(params, self.options.grad_clip)

    def _autocast(self):
        if not self.options.amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    # ---------------------------------------------------------- sampling

    @torch.no_grad()
    def sample(self, n: int, seed: int) -> torch.Tensor:
        """``n`` images from a fixed seed, with EMA weights when enabled; leaves all RNG untouched."""
        devices = [self.device] if self.device.type == "cuda" else []
        was_training = self.model.training
        with torch.random.fork_rng(devices=devices), self._ema_applied():
            self.model.eval()
            generator = torch.Generator().manual_seed(seed)
            images = self.model.sample(n, generator=generator)
        self.model.train(was_training)
        return images

    def save_samples(self, path: Path) -> None:
        images = self.sample(self.options.num_samples, self.options.seed + GRID_SEED_OFFSET)
        save_grid(images, self.data.spec.value_range, path)

    def _ema_applied(self):
        return self.ema.applied(self.model) if self.ema is not None else contextlib.nullcontext()

    # -------------------------------------------------------- checkpoints

    def state_dict(self) -> dict[str, Any]:
        rng = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "schedulers": {name: s.state_dict() for name, s in self.schedulers.items()},
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "rng": rng,
            "data": self.batches.state_dict(),
            "run": self.run_info,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        for name, scheduler in self.schedulers.items():
            scheduler.load_state_dict(state["schedulers"][name])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        if self.ema is not None:
            if state.get("ema") is None:
                raise GanzooError("the checkpoint was trained without EMA; resume without --ema")
            self.ema.load_state_dict(state["ema"])
        torch.set_rng_state(state["rng"]["torch"])
        if self.device.type == "cuda" and "cuda" in state["rng"]:
            torch.cuda.set_rng_state(state["rng"]["cuda"], self.device)
        self.batches.load_state_dict(state["data"])
        self.step = int(state["step"])

    def _checkpoint(self, elapsed: float) -> Path:
        directory = self.run_dir / "checkpoints"
        path = checkpoint_path(directory, self.step)
        save_checkpoint(path, self.state_dict())
        prune_checkpoints(directory, self.options.keep_last)
        self._write_progress(elapsed)
        return path

    def _write_progress(self, elapsed: float) -> None:
        """Wall time and device live beside the checkpoints, so checkpoints stay bitwise reproducible."""
        path = self.run_dir / "progress.json"
        progress = _read_json(path)
        progress.setdefault("checkpoints", {})[str(self.step)] = {
            "elapsed_s": round(elapsed, 3),
            "device": str(self.device),
        }
        progress.update(step=self.step, elapsed_s=round(elapsed, 3), device=str(self.device))
        with atomic_write(path, "w") as fh:
            json.dump(progress, fh, indent=2)

    def _latest_checkpoint_path(self) -> Path | None:
        if self.run_dir is None:
            return None
        found = list_checkpoints(self.run_dir / "checkpoints")
        return found[-1][1] if found else None

    def _resume(self) -> int | None:
        """Continue from the newest readable checkpoint (``choose_checkpoint``'s rule).

        Damaged newer checkpoints are renamed ``*.pt.damaged``, so that neither a
        later checkpoint of the same step nor pruning can destroy them; when every
        checkpoint is damaged nothing is changed and the run is refused.
        """
        directory = self.run_dir / "checkpoints"
        try:
            chosen = choose_checkpoint(directory)
        except CheckpointError as exc:
            raise CheckpointError(
                f"{exc}; nothing was changed. To start over, move {str(self.run_dir)!r} aside "
                "or train into another --out"
            ) from None
        if chosen is None:
            return None
        for bad in chosen.skipped:
            aside = bad.with_name(bad.name + ".damaged")
            os.replace(bad, aside)
            warn(f"kept the damaged checkpoint as {aside.name}")
        self.load_state_dict(chosen.state)
        progress = _read_json(self.run_dir / "progress.json")
        checkpoints = progress.get("checkpoints", {})
        self.elapsed_before = checkpoints.get(str(chosen.step), {}).get("elapsed_s", 0.0)
        return chosen.step


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def options_dict(options: TrainOptions) -> dict[str, Any]:
    return asdict(options)
