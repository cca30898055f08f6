"""``Trainer``: the one training loop every model family goes through.

The model says *what* to optimise (phases and their losses); the trainer does
everything else: device placement, fused optimizer kernels (on CUDA), autocast
and gradient scaling, gradient clipping, the non-finite-loss guard, EMA,
seeding, logging, sample grids and atomic checkpoints with exact resume.  What
lives on disk is ``RunDirectory``'s business (``run.py``), so ``fit`` reads on
one screen.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data.base import ImageData
from ..device import resolve_device
from ..errors import GanzooError
from ..model import Model
from ..sampling import class_rows, draw_samples
from .batches import Batches
from .ema import EMA
from .guard import FiniteGuard
from .logger import Meter, RunLogger, save_grid
from .optimizers import fused
from .options import TrainOptions
from .run import RunDirectory, run_identity
from .stop import deferred_stop

#: Seed offset of the fixed noise behind every sample grid, so grids are comparable over time.
GRID_SEED_OFFSET = 7_919
AMP_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16}


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
        self.options = o = options or TrainOptions()
        self.model, self.data = model, data
        self.run = RunDirectory(run_dir) if run_dir is not None else None
        self.device = resolve_device(o.device)
        self.batch_size = o.batch_size or model.default_batch_size
        self.step, self.elapsed_before, self.last_checkpoint = 0, 0.0, None
        self.guard = FiniteGuard()
        self._check_options()
        model.to(self.device)
        if o.channels_last:  # 4-d weights only; the batches follow in Batches
            model.to(memory_format=torch.channels_last)
        model.train()
        if o.compile:
            for child in model.children():
                child.compile()
        self._configure(model)
        self.autocast_dtype = AMP_DTYPES[o.amp_dtype]
        use_scaler = o.amp and self.autocast_dtype == torch.float16
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=use_scaler)
        use_ema = model.ema_by_default if o.ema is None else o.ema
        decay = model.ema_decay if o.ema_decay is None else o.ema_decay
        self.ema = EMA(model, model.ema_modules, decay, o.ema_start) if use_ema else None
        layout = torch.channels_last if o.channels_last else torch.contiguous_format
        self.batches = Batches(data, self.batch_size, o.seed, self.device, layout)
        #: Stored in every checkpoint and in run.json; ``run_info`` overrides (e.g. the
        #: dataset name as the user typed it).
        self.run_info = {
            **run_identity(model, data, o.seed, self.batch_size, use_ema),
            **(run_info or {}),
        }

    @property
    def run_dir(self) -> Path | None:
        return self.run.path if self.run is not None else None

    def _configure(self, model: Model) -> None:
        """The model's optimizers (fused where they can be), schedules and phases, checked."""
        self.optimizers = model.configure_optimizers()
        if self.options.fused or (self.options.fused is None and self.device.type == "cuda"):
            self.optimizers = {name: fused(opt) for name, opt in self.optimizers.items()}
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

    def _check_options(self) -> None:
        o = self.options
        if o.amp and self.device.type != "cuda":
            raise GanzooError(
                "--amp needs a CUDA device (mixed precision is not supported on "
                f"{self.device.type}); drop --amp or use --device cuda"
            )
        if o.amp_dtype not in AMP_DTYPES:
            raise GanzooError(f"--amp-dtype must be bfloat16 or float16, not {o.amp_dtype!r}")
        if o.amp and o.amp_dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
            raise GanzooError("this GPU does not support bfloat16; use --amp-dtype float16")
        if o.ema and not self.model.ema_modules:
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
        resumed_from = self._start()
        logger = RunLogger(self.run_dir, self.options.steps, self.step, self.options.quiet)
        for line in self._banner(resumed_from):
            logger.message(line)
        meter, started = Meter(self.model.name), time.perf_counter()
        try:
            with deferred_stop() as stop:  # Ctrl-C/SIGTERM: finish the step, checkpoint it
                while self.step < self.options.steps:
                    with self.guard.reporting(self.last_checkpoint):
                        self._train_step(meter)
                    self.step += 1
                    if self._due(self.options.log_every):
                        self.guard.check(self.last_checkpoint)
                        elapsed = self.elapsed_before + time.perf_counter() - started
                        logger.log(self.step, meter.flush(), elapsed)
                    self._save_due(started, stopping=stop.signum is not None)
                    if stop.signum is not None:
                        logger.message(f"{stop.name()}: stopped after step {self.step}, saved")
                        stop.raise_now(stop.signum)
        finally:
            logger.close()
        elapsed = self.elapsed_before + time.perf_counter() - started
        return TrainResult(self.step, elapsed, self.last_checkpoint, resumed_from)

    def _train_step(self, meter: Meter) -> None:
        batch = None
        for phase in self.phases:
            optimizer = self.optimizers[phase.optimizer]
            for _ in range(phase.repeat):
                if batch is None or phase.new_batch:
                    batch = self.batches.next()
                with self._autocast():
                    loss, logs = phase.loss(batch)
                self.guard.watch(phase.name, loss, self.step + 1)
                optimizer.zero_grad(set_to_none=True)
                self.scaler.scale(loss).backward()
                if self.options.grad_clip is not None:
                    self.scaler.unscale_(optimizer)
                    params = [p for group in optimizer.param_groups for p in group["params"]]
                    torch.nn.utils.clip_grad_norm_(params, self.options.grad_clip)
                self.scaler.step(optimizer)
                self.scaler.update()
                if phase.optimizer in self.schedulers:
                    self.schedulers[phase.optimizer].step()
                meter.add(phase.name, loss.detach(), logs)
        if self.ema is not None:
            self.ema.update(self.model, self.step + 1)

    def _autocast(self):
        if not self.options.amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    # ------------------------------------------------------ the run directory

    def _start(self) -> int | None:
        """Open the run directory and resume from it, or seed and checkpoint the untrained model."""
        if self.run is not None:
            options = {**self.options.as_dict(), "batch_size": self.batch_size}
            details = {"parameters": self.model.num_parameters(), "options": options}
            details["options"]["device"] = str(self.device)
            self.run.open(self.run_info, details)
            found = self.run.resume() if self.options.resume else None
            if found is not None:
                step, state, self.elapsed_before = found
                self.load_state_dict(state)
                self.last_checkpoint = self.run.latest()
                return step
        torch.manual_seed(self.options.seed)
        if self.run is not None:  # the untrained model: the baseline of every metric curve
            self.save_samples(self.run.grid(0))
            self._checkpoint(0.0)
        return None

    def _banner(self, resumed_from: int | None) -> list[str]:
        where = f" -> {self.run_dir}" if self.run_dir is not None else ""
        lines = [
            f"training {self.model.name} ({self.model.num_parameters():,} parameters) on "
            f"{self.run_info['dataset']} [{len(self.data)} images] for {self.options.steps} "
            f"steps, batch {self.batch_size}, device {self.device}{where}"
        ]
        if resumed_from is not None:
            lines.append(f"resumed from step {resumed_from}")
        if self.step >= self.options.steps:
            lines.append(f"already trained for {self.step} steps (>= --steps {self.options.steps})")
        return lines

    def _due(self, every: int) -> bool:
        return self.step % every == 0 or self.step == self.options.steps

    def _save_due(self, started: float, stopping: bool = False) -> None:
        """The periodic grid and checkpoint; when ``stopping``, a checkpoint at this step anyway."""
        if self.run is None:
            return
        grid = self._due(self.options.sample_every)
        checkpoint = stopping or self._due(self.options.checkpoint_every)
        if grid or checkpoint:
            self.guard.check(self.last_checkpoint)  # nothing is written after a non-finite loss
        if grid:
            self.save_samples(self.run.grid(self.step))
        if checkpoint:
            self._checkpoint(self.elapsed_before + time.perf_counter() - started)

    def _checkpoint(self, elapsed: float) -> None:
        self.last_checkpoint = self.run.save(
            self.step, self.state_dict(), elapsed, str(self.device), self.options.keep_last
        )

    # ---------------------------------------------------------- sampling

    def sample(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` images from a fixed seed, with EMA weights when enabled; leaves all RNG untouched."""
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), self._ema_applied():
            return draw_samples(self.model, n, torch.Generator().manual_seed(seed), labels)

    def save_samples(self, path: Path) -> None:
        """The grid of ``num_samples`` images; a conditional model's has one row per class."""
        n, labels, per_row = self.options.num_samples, None, None
        if self.model.conditional:
            classes = self.model.spec.num_classes
            per_row = max(1, n // classes)
            labels = class_rows(list(range(classes)), per_row)
            n = len(labels)
        images = self.sample(n, self.options.seed + GRID_SEED_OFFSET, labels)
        save_grid(images, self.data.spec.value_range, path, per_row)

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
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
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
        if self.scaler.is_enabled() and state.get("scaler"):
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
