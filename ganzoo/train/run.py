"""The run directory: self-describing, so later commands need nothing but its path.

RUN/run.json          model, dataset, spec, hyperparameters, seed, options, versions, git commit
RUN/metrics.jsonl     every logged scalar with its step
RUN/samples/          step-XXXXXXXX.png grids from one fixed noise
RUN/checkpoints/      step-XXXXXXXX.pt (the last K)
RUN/progress.json     wall time and device at each checkpoint
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..dist import World
from ..errors import GanzooError, warn
from ..files.write import UnwritableError, atomic_write, make_dirs
from ..versions import versions
from .checkpoint import (
    CheckpointError,
    checkpoint_path,
    choose_checkpoint,
    keep_as_best,
    list_checkpoints,
    prune_checkpoints,
    save_checkpoint,
    unwritable_in_run,
)

RUN_FILE = "run.json"
#: What must match for an existing run directory to be resumed exactly.
RESUME_KEYS = ("model", "dataset", "split", "hyperparameters", "seed", "batch_size", "ema")


def default_run_dir(model: str, dataset: str, name: str | None = None) -> Path:
    stamp = name or datetime.now().strftime("%Y%m%d-%H%M%S")
    safe_dataset = dataset.replace(":", "-").replace("/", "_").strip("_-.") or "data"
    return Path("runs") / f"{model}-{safe_dataset}-{stamp}"


def git_commit() -> str | None:
    """The commit of the working directory's repository, if any (so a run can be traced to code)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_identity(model: Any, data: Any, seed: int, batch_size: int, ema: bool) -> dict[str, Any]:
    """What a run *is*: stored in every checkpoint (deterministic, so checkpoints are bitwise
    reproducible) and compared before a run directory is resumed."""
    from .. import config as config_mod
    from .. import plugins

    entry = plugins.registry("register_models").get(model.name)
    return {
        "model": model.name,
        "family": model.family,
        "plugin": entry.plugin if entry is not None else None,
        "dataset": data.name,
        "split": data.split,
        "spec": data.spec.as_dict(),
        "hyperparameters": config_mod.to_dict(model.config),
        "seed": seed,
        "batch_size": batch_size,
        "ema": ema,
    }


def check_resumable(run_dir: Path, identity: dict[str, Any]) -> None:
    """Refuse to continue a run directory that holds a different run.

    Stored hyperparameters are read through the model's current ``Config``, so a
    field added later (with the old behaviour as its default) is not a difference.
    """
    existing = read_run_info(run_dir)
    if existing is None:
        return
    existing = {**existing, "hyperparameters": _with_defaults(existing, identity)}
    different = [k for k in RESUME_KEYS if existing.get(k) != identity.get(k)]
    if different:
        details = "; ".join(
            f"{k}: {existing.get(k)!r} there, {identity.get(k)!r} now" for k in different
        )
        raise GanzooError(
            f"{run_dir} holds a different run ({details}); choose another output directory"
        )


def _with_defaults(existing: dict[str, Any], identity: dict[str, Any]) -> Any:
    from .. import config as config_mod
    from ..model import model_class

    stored = existing.get("hyperparameters")
    if existing.get("model") != identity.get("model") or not isinstance(stored, dict):
        return stored
    try:
        cls = model_class(identity["model"])
        return config_mod.to_dict(config_mod.from_dict(cls.Config, stored))
    except GanzooError:  # a field removed or retyped since: a real difference
        return stored


def write_run_info(run_dir: Path, info: dict[str, Any]) -> None:
    with atomic_write(run_dir / RUN_FILE, "w") as fh:
        json.dump(info, fh, indent=2, sort_keys=True)


def read_run_info(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / RUN_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise GanzooError(
            f"{path} is not valid JSON ({exc}); the run directory is damaged"
        ) from None


def new_run_info(**fields: Any) -> dict[str, Any]:
    return {
        "format": 1,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "git_commit": git_commit(),
        "command": " ".join(["ganzoo", *sys.argv[1:]]) if sys.argv else None,
        **fields,
    }


class RunDirectory:
    """What the trainer keeps on disk for one run, so the training loop does no bookkeeping.

    Checkpoints are written atomically and pruned to the last K; ``progress.json``
    holds wall time and device beside them (so checkpoints stay bitwise
    reproducible); resuming follows ``choose_checkpoint``'s rule.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.checkpoints = self.path / "checkpoints"

    def open(self, identity: dict[str, Any], details: dict[str, Any], world: World) -> None:
        """Refuse a directory holding another run (every rank checks); describe a new one in
        run.json (rank 0 writes, the others wait for it)."""
        check_resumable(self.path, identity)
        if world.is_main:
            make_dirs(self.path)
            if read_run_info(self.path) is None:
                write_run_info(self.path, new_run_info(**identity, **details))
        world.barrier()

    def resume_all(self, world: World) -> tuple[int, dict[str, Any], float] | None:
        """``resume`` on rank 0 (which may set damaged files aside); every other rank then
        loads the very checkpoint rank 0 chose."""
        found = self.resume() if world.is_main else None
        step = world.broadcast_object(None if found is None else found[0])
        if world.is_main or step is None:
            return found
        chosen = choose_checkpoint(self.checkpoints, step)
        return step, chosen.state, self._elapsed(step)

    def resume(self) -> tuple[int, dict[str, Any], float] | None:
        """(step, state, elapsed seconds) of the newest readable checkpoint, or None.

        Damaged newer checkpoints are renamed ``*.pt.damaged``, so that neither a
        later checkpoint of the same step nor pruning can destroy them; when every
        checkpoint is damaged nothing is changed and the run is refused.
        """
        try:
            chosen = choose_checkpoint(self.checkpoints)
        except CheckpointError as exc:
            raise CheckpointError(
                f"{exc}; nothing was changed. To start over, move {str(self.path)!r} aside "
                "or train into another --out"
            ) from None
        if chosen is None:
            return None
        for bad in chosen.skipped:
            aside = bad.with_name(bad.name + ".damaged")
            try:
                os.replace(bad, aside)
            except OSError as exc:  # resuming would soon write there anyway
                advice = (
                    f"make {str(bad.parent)!r} writable and run the same command again; "
                    f"it resumes from {chosen.path}"
                )
                raise UnwritableError(bad, exc, "set aside the damaged", advice) from None
            warn(f"kept the damaged checkpoint as {aside.name}")
        return chosen.step, chosen.state, self._elapsed(chosen.step)

    def save(
        self,
        step: int,
        state: dict[str, Any],
        elapsed: float,
        where: dict[str, Any],
        keep_last: int,
    ) -> Path:
        """The checkpoint of ``step``, pruning, progress.json (with ``where``: the device and CPU
        threads it was trained on); a full disk or a read-only folder is one line naming the
        file and the checkpoint that is still intact."""
        path = checkpoint_path(self.checkpoints, step)
        try:
            save_checkpoint(path, state)
            prune_checkpoints(self.checkpoints, keep_last)
            progress = self.progress()
            entry = {"elapsed_s": round(elapsed, 3), **where}
            progress.setdefault("checkpoints", {})[str(step)] = entry
            progress.update(step=step, **entry)
            with atomic_write(self.path / "progress.json", "w") as fh:
                json.dump(progress, fh, indent=2)
        except UnwritableError as exc:
            raise unwritable_in_run(self.path, exc) from None
        return path

    def update_progress(self, **fields: Any) -> None:
        """Set ``fields`` in progress.json (atomically), keeping what else it holds."""
        progress = self.progress()
        progress.update(fields)
        try:
            with atomic_write(self.path / "progress.json", "w") as fh:
                json.dump(progress, fh, indent=2)
        except UnwritableError as exc:
            raise unwritable_in_run(self.path, exc) from None

    def keep_best(self, step: int) -> Path:
        """``checkpoints/best.pt``: the checkpoint of ``step``, replaced atomically (a hard link
        where the file system has them, else a copy); rotation never removes it."""
        try:
            return keep_as_best(checkpoint_path(self.checkpoints, step))
        except UnwritableError as exc:
            raise unwritable_in_run(self.path, exc) from None

    def checkpoint(self, step: int) -> Path:
        return checkpoint_path(self.checkpoints, step)

    def latest(self) -> Path | None:
        found = list_checkpoints(self.checkpoints)
        return found[-1][1] if found else None

    def grid(self, step: int) -> Path:
        return self.path / "samples" / f"step-{step:08d}.png"

    def _elapsed(self, step: int) -> float:
        """Training seconds up to checkpoint ``step``, from progress.json (0 when not recorded)."""
        return self.recorded(step).get("elapsed_s", 0.0)

    def recorded(self, step: int) -> dict[str, Any]:
        """What progress.json holds of checkpoint ``step`` (elapsed_s, device, threads), or {}."""
        entry = self.progress().get("checkpoints", {}).get(str(step))
        return entry if isinstance(entry, dict) else {}

    def progress(self) -> dict[str, Any]:
        """progress.json's contents ({} when absent or unreadable)."""
        try:
            return json.loads((self.path / "progress.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
