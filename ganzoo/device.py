"""Turning ``--device`` text into a torch device, and how many CPU threads torch may use."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

from .errors import GanzooError


def resolve_device(name: str | torch.device | None) -> torch.device:
    """``auto`` is CUDA when available, else CPU; asking for a missing GPU is a clear error."""
    if name is None or str(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise GanzooError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise GanzooError(f"--device {name} asked for, but no CUDA GPU is available here")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise GanzooError(f"--device {name}: only {torch.cuda.device_count()} GPU(s) here")
    elif device.type != "cpu":
        raise GanzooError(f"device type {device.type!r} is not supported; use cpu or cuda")
    return device


@contextlib.contextmanager
def cpu_threads(n: int | None) -> Iterator[int]:
    """torch's intra-op threads set to ``n`` for the block (None: left as they are), then restored.

    torch starts one thread per core and its threads spin while they wait, so on
    cores another job also uses they slow each other down several times over
    (docs/performance.md); fewer threads is then faster.  Yields the count in force.
    """
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)


def busy_cpu(threads: int) -> str | None:
    """A hint when other jobs already keep this machine's cores busy, else None.

    The load average counts runnable processes over the last minute; with it at
    or above the cores this process may use less its own threads, they would
    fight for cores.  Only a hint: it cannot tell a brief spike from a neighbour.
    """
    try:
        load, cores = os.getloadavg()[0], len(os.sched_getaffinity(0))
    except (OSError, AttributeError):  # no load average (e.g. on Windows)
        return None
    if threads < 2 or load + threads <= cores + 0.5:
        return None
    return (
        f"the CPU is busy (load {load:.1f} on {cores} cores) and training uses {threads} threads; "
        "on a shared machine --threads 1 is often several times faster"
    )


def threads_changed(recorded: dict, device: torch.device) -> str | None:
    """Some models' CPU math splits sums by thread (the transformer's does), so a resume is
    bitwise only on as many threads as the checkpoint was trained on; None when it is."""
    before, now = recorded.get("threads"), torch.get_num_threads()
    if device.type != "cpu" or not isinstance(before, int) or before == now:
        return None
    return (
        f"resuming on {now} CPU threads, the checkpoint was trained on {before}: the run can "
        f"differ in the last bits from one trained on {before} throughout (--threads {before} "
        "keeps it bitwise)"
    )
