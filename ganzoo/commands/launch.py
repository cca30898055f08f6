"""``--nproc N``: the same command on N local processes, started by torch's elastic launcher.

``ganzoo train --nproc 2 ...`` is ``torchrun --standalone --nproc-per-node 2
-m ganzoo train ...`` without typing it: the launcher (not a ganzoo process
manager) starts the workers, watches them and ends the job when one fails.
The workers see the launcher's environment and ignore ``--nproc``.  On a CPU
each worker gets an equal share of the cores (``OMP_NUM_THREADS``) unless the
variable is set.  Nothing here imports torch until a launch happens.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..config import check_ranges, option
from ..errors import GanzooError, Interrupted

#: Where the root context's ``meta`` (shared by every subcommand's context) keeps the command line.
COMMAND_LINE = "ganzoo.command_line"


def record_command_line(ctx: click.Context, args: Sequence[str]) -> None:
    """Keep ``args`` (the command line after ``ganzoo``, before parsing) for ``command_line``."""
    ctx.meta[COMMAND_LINE] = list(args)


def command_line() -> list[str]:
    """The arguments this ``ganzoo`` process was given, for workers that run the same command.

    ``GanzooGroup.make_context`` records them before click parses them, so
    ``--nproc`` workers get the command exactly as typed (global options
    included), not one rebuilt from parsed values.  Empty for a command invoked
    without the ``ganzoo`` group; ``relaunched`` refuses to launch that.
    """
    return list(click.get_current_context().meta.get(COMMAND_LINE, ()))


@dataclass
class LaunchOptions:
    """How many local processes run a command (``train``, ``eval``); defined once for both."""

    nproc: int = option(
        1,
        "Processes on this machine (torch's elastic launcher, as torchrun "
        "--nproc-per-node); one per GPU on CUDA. Under torchrun, leave it out.",
        min=1,
    )

    def __post_init__(self) -> None:
        check_ranges(self)


def relaunched(nproc: int, argv: Sequence[str]) -> bool:
    """True when this command ran as ``nproc`` workers, each given ``argv`` (the caller then
    returns); False when this process should do the work itself (one process, or already a
    worker).  ``argv`` is passed, not read from a global, so a command can add to it (``train``
    names the run directory every worker must share)."""
    from ..dist.world import launched

    if launched():
        local = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ["WORLD_SIZE"]))
        if nproc not in (1, local):
            raise GanzooError(
                f"--nproc {nproc} under a launcher that started {local} process(es) here; "
                "drop --nproc (the launcher decides)"
            )
        return False
    if nproc == 1:
        return False
    if not argv:
        raise GanzooError(
            f"--nproc {nproc} needs the command line: run the command as `ganzoo ...`"
        )
    _launch(nproc, list(argv))
    return True


def _launch(nproc: int, argv: list[str]) -> None:
    import logging
    import uuid

    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    for name in list(logging.Logger.manager.loggerDict):  # torch sets each module's level
        if name.startswith("torch.distributed.elastic"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=f"ganzoo-{uuid.uuid4().hex[:8]}",
        rdzv_backend="c10d",
        rdzv_endpoint="127.0.0.1:0",
        max_restarts=0,
        monitor_interval=0.1,
    )
    try:
        elastic_launch(config, sys.executable)("-m", "ganzoo", *argv)
    except ChildFailedError as exc:
        raise _failed(exc.failures, nproc, argv) from None
    except SignalException as exc:
        raise Interrupted(
            f"stopped by {exc.sigval.name}; the workers were told to stop", exc.sigval
        ) from None


def _failed(failures: dict[int, Any], nproc: int, argv: list[str]) -> GanzooError:
    """The launcher's report as one line: the rank killed by a signal, or the first that failed.

    A rank killed outright (SIGKILL, a segfault) says nothing itself; the others
    then fail in a collective with a one-line "lost contact", or die of the
    SIGTERM the launcher sends them to stop (recorded as failures too).  So a
    rank killed by another signal is the cause, named with its signal, whatever
    order the launcher gives (its timestamps are in whole seconds).
    """
    killed = {rank: f.signal_name() for rank, f in sorted(failures.items()) if f.exitcode < 0}
    cause = {rank: name for rank, name in killed.items() if name != "SIGTERM"}
    if not cause and len(killed) == len(failures):  # every rank was stopped from outside
        cause = killed
    if not cause:
        exited = [rank for rank, f in failures.items() if f.exitcode > 0]
        rank = min(exited, key=lambda r: (failures[r].timestamp, r))
        code = failures[rank].exitcode
        return _Failed(
            f"rank {rank} of {nproc} failed (exit status {code}); its message is above", code
        )
    if len(cause) == 1:
        ((rank, name),) = cause.items()
        what = f"rank {rank} of {nproc} was killed by {name}"
    else:
        what = f"ranks {', '.join(f'{r} ({n})' for r, n in cause.items())} of {nproc} were killed"
    code = 128 - failures[next(iter(cause))].exitcode
    return _Failed(f"{what}; {_resume_advice(argv)}", code)


def _resume_advice(argv: list[str]) -> str:
    """How to go on: ``train`` resumes from its last checkpoint; anything else starts again."""
    args = list(argv)
    while args and args[0].startswith("-"):  # --traceback, --plugins-dir DIR
        args = args[2:] if args[0] == "--plugins-dir" else args[1:]
    if not args or args[0] != "train":
        return "run the same command again"
    out = next((a.partition("=")[2] for a in args if a.startswith("--out=")), None)
    if out is None and "--out" in args[:-1]:
        out = args[args.index("--out") + 1]
    from ..train.checkpoint import list_checkpoints

    found = list_checkpoints(Path(out) / "checkpoints") if out else []
    if not found:
        return "no checkpoint was written yet; the same command starts the run again"
    return f"the job can be resumed from the last checkpoint, {found[-1][1]}, by running the same command"


class _Failed(GanzooError):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
