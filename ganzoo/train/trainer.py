"""``Trainer``: the one training loop every model family goes through.

The model says *what* to optimise (phases and their losses); the trainer does
everything else: device placement, fused optimizer kernels (on CUDA), autocast
and gradient scaling, gradient clipping, the non-finite-loss guard, EMA,
seeding, logging, sample grids and atomic checkpoints with exact resume, on
one process or many (torchrun: each rank takes its slice of the global batch
and each phase's gradients are averaged over the ranks before its optimizer
steps; docs/distributed.md).  What lives on disk is ``RunDirectory``'s
business (``run.py``), what a checkpoint holds ``state.py``'s, so ``fit``
reads on one screen.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data.base import ImageData
from ..device import cpu_threads, threads_changed
from ..dist import setup
from ..errors import GanzooError, warn
from ..model import Model
from ..track.fanout import Trackers, parse_trackers, tracker_classes
from . import grids
from . import state as trainer_state
from .batches import Batches
from .checks import AMP_DTYPES, check_options
from .ema import EMA
from .guard import FiniteGuard
from .inloop import InLoop, eval_scalars
from .logger import Meter, RunLogger, banner
from .optimizers import fused
from .options import TrainOptions
from .run import RunDirectory, read_run_info, run_identity
from .seeding import rank_seed
from .stop import deferred_stop


@dataclass
class TrainResult:
    step: int
    elapsed_s: float
    checkpoint: Path | None
    resumed_from: int | None
    stopped: str | None = None  # why in-loop evaluation stopped training early


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
        self.world, self.device = setup(o.device)  # one process, or this rank's under torchrun
        self.batch_size = o.batch_size or model.default_batch_size  # global, over all ranks
        self.step, self.elapsed_before, self.last_checkpoint = 0, 0.0, None
        self.guard = FiniteGuard()
        check_options(o, model, data, self.batch_size, self.device, self.world, run_dir)
        self.trackers = parse_trackers(o.tracker)
        tracker_classes(self.trackers)  # each can work here: checked before anything is written
        shape = (data.spec.channels, data.spec.height, data.spec.width)
        self.inloop = InLoop(o, shape, self.device) if o.eval_every else None
        model.to(self.device)
        if o.channels_last:  # 4-d weights only; the batches follow in Batches
            model.to(memory_format=torch.channels_last)
        if o.sync_bn and self.world.distributed:
            torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)  # same parameters, in place
        self.world.broadcast_tensors([*model.parameters(), *model.buffers()])  # rank 0's
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
        w = self.world
        self.batches = Batches(data, self.batch_size, o.seed, self.device, layout, w.rank, w.size)
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
        self.params = {
            name: [p for group in opt.param_groups for p in group["params"]]
            for name, opt in self.optimizers.items()
        }
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

    # ----------------------------------------------------------------- loop

    def fit(self) -> TrainResult:
        with cpu_threads(self.options.threads):
            return self._fit()

    def _fit(self) -> TrainResult:
        resumed_from = self._start()
        main = self.world.is_main  # only rank 0 talks and writes
        run_dir = self.run_dir if main else None
        config = (read_run_info(run_dir) or {}) if run_dir is not None else {}
        redo = self.inloop is not None and self.inloop.pending(self.step)
        logger = RunLogger(
            run_dir, self.options.steps, self.step, self.options.quiet or not main,
            Trackers(self.trackers, run_dir, config, resumed_from), redo_eval=redo,
        )  # fmt: skip
        for line in banner(self, resumed_from):
            logger.message(line)
        meter, started = Meter(self.model.name), time.perf_counter()
        try:
            if redo:  # a kill came between this checkpoint and its evaluation
                self._evaluate(logger, started)
            with deferred_stop() as stop:  # Ctrl-C/SIGTERM: finish the step, checkpoint it
                while self.step < self.options.steps and not self._stopped_early(logger):
                    with self.guard.reporting(self.last_checkpoint):
                        self._train_step(meter)
                    self.step += 1
                    if self._due(self.options.log_every):
                        self.guard.check(self.last_checkpoint, self.world)
                        elapsed = self.elapsed_before + time.perf_counter() - started
                        logger.log(self.step, self.world.mean(meter.flush()), elapsed)
                    signum = stop.agreed(self.world)  # every rank stops after the same step
                    self._save_due(logger, started, stopping=signum is not None)
                    if signum is not None:
                        logger.message(
                            f"{stop.name(signum)}: stopped after step {self.step}, saved"
                        )
                        stop.raise_now(signum)
                self._sync_buffers()  # the model the caller gets is the same on every rank
        finally:
            logger.close()
        elapsed = self.elapsed_before + time.perf_counter() - started
        stopped = self.inloop.stopped["reason"] if self.inloop and self.inloop.stopped else None
        return TrainResult(self.step, elapsed, self.last_checkpoint, resumed_from, stopped)

    def _stopped_early(self, logger: RunLogger) -> bool:
        if self.inloop is None or not self.inloop.should_stop():
            return False
        logger.message(f"stopped early at step {self.step}: {self.inloop.stopped['reason']}")
        return True

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
                params = self.params[phase.optimizer]
                self.world.average([p.grad for p in params if p.grad is not None])
                if self.options.grad_clip is not None:
                    self.scaler.unscale_(optimizer)
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
            details["options"].update(device=str(self.device), threads=torch.get_num_threads())
            details["launch"] = self.world.describe()
            self.run.open(self.run_info, details, self.world)
            found = self.run.resume_all(self.world) if self.options.resume else None
            if found is not None:
                step, state, self.elapsed_before = found
                self.load_state_dict(state)
                if self.inloop is not None:  # every rank continues rank 0's schedule
                    schedule = self.run.progress().get("in_loop") if self.world.is_main else None
                    self.inloop.restore(self.world.broadcast_object(schedule), step)
                self.last_checkpoint = self.run.latest()
                for note in filter(None, [threads_changed(self.run.recorded(step), self.device)]):
                    warn(note)
                return step
        torch.manual_seed(rank_seed(self.options.seed, self.world.rank))  # the losses' noise
        if self.run is not None:  # the untrained model: the baseline of every metric curve
            if self.world.is_main:
                grids.save_samples(self, self.run.grid(0))
            self._checkpoint(0.0)
        return None

    def _due(self, every: int) -> bool:
        return self.step % every == 0 or self.step == self.options.steps

    def _save_due(self, logger: RunLogger, started: float, stopping: bool = False) -> None:
        """The periodic grid, checkpoint and in-loop evaluation; when ``stopping``, a checkpoint
        at this step anyway (and no evaluation: a resume does it)."""
        if self.run is None:
            return
        grid = self._due(self.options.sample_every)
        evaluate = self.inloop is not None and self.inloop.due(self.step)
        checkpoint = stopping or evaluate or self._due(self.options.checkpoint_every)
        if grid or checkpoint:
            self.guard.check(self.last_checkpoint, self.world)  # nothing written after a NaN
            self._sync_buffers()
        if grid and self.world.is_main:
            grids.save_samples(self, self.run.grid(self.step))
            logger.image(self.step, self.run.grid(self.step))
        if checkpoint:
            self._checkpoint(self.elapsed_before + time.perf_counter() - started)
        if evaluate and not stopping:
            self._evaluate(logger, started)

    def _evaluate(self, logger: RunLogger, started: float) -> None:
        """Score the checkpoint just written (``inloop.py``); rank 0 records it and keeps the best."""
        found = self.inloop.evaluate(self.run.path, self.step, self.world, self.device)
        elapsed = self.elapsed_before + time.perf_counter() - started
        if self.world.is_main:
            row = found["row"]
            if self.inloop.improved(row):
                self.run.keep_best(self.step)
            share = round(self.inloop.share(elapsed), 4)
            self.run.update_progress(in_loop={**self.inloop.state(), "eval_share": share})
            scalars = {"time": round(elapsed, 3), **eval_scalars(row)}
            logger.evaluated(self.step, scalars, found["result"], found["path"])
            logger.message(self.inloop.line(row, elapsed))
        self.world.barrier()

    def _sync_buffers(self) -> None:
        """Per-rank BatchNorm statistics (and EMA's copies) averaged: one model to sample, save."""
        ema = [self.ema.shadow[n] for n in self.ema.buffer_names] if self.ema else []
        self.world.sync_buffers([*self.model.buffers(), *ema])

    def _checkpoint(self, elapsed: float) -> None:
        """Every rank contributes its random stream; rank 0 writes; all wait until it has."""
        state = self.state_dict()
        if self.world.is_main:
            where = {"device": str(self.device), "threads": torch.get_num_threads()}
            self.run.save(self.step, state, elapsed, where, self.options.keep_last)
        self.world.barrier()
        self.last_checkpoint = self.run.checkpoint(self.step)

    def sample(self, n: int, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` images from a fixed seed, with EMA weights when enabled; leaves all RNG untouched."""
        return grids.sample(self, n, seed, labels)

    # -------------------------------------------------------- checkpoints

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint holds (``state.py``); a collective under torch.distributed."""
        return trainer_state.collect(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        trainer_state.restore(self, state)
