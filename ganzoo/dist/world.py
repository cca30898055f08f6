"""``World``: this process's place among the ranks, and every collective ganzoo uses.

A single process is ``World()`` (rank 0 of 1) and each collective returns its
input, so the trainer and the evaluator call them unconditionally.  Under
``torchrun`` the launcher's ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
``MASTER_ADDR`` and ``MASTER_PORT`` decide everything: NCCL on CUDA (each
process on ``cuda:LOCAL_RANK``), gloo on a CPU.  Small control messages (the
stop request, Python objects) always travel through a gloo group on the host,
so asking "did any rank get SIGTERM?" each step never waits for the GPU.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch

from ..device import resolve_device
from ..errors import GanzooError, PeerLost

F = TypeVar("F", bound=Callable[..., Any])
#: Set when a collective found a peer gone (see ``broken``).
_broken = False

#: What gloo and NCCL say when the process at the other end is gone (killed, crashed, exited).
_GONE = re.compile(
    r"connection (?:reset|closed|refused)[a-z ]*|broken pipe|timed out|timing out|"
    r"remote process exited|communicator was aborted",
    re.IGNORECASE,
)


def collective(method: F) -> F:
    """A collective whose peer is gone fails as one line (``PeerLost``), not a gloo traceback.

    When one rank is killed, the others learn it from the collective they were
    in ("Connection reset by peer"); that is a consequence, and the launcher
    reports the cause (which rank, which signal).
    """

    @functools.wraps(method)
    def checked(self: World, *args: Any, **kwargs: Any) -> Any:
        global _broken
        try:
            return method(self, *args, **kwargs)
        except RuntimeError as exc:  # gloo's and NCCL's errors (DistError's kinds included)
            gone = _GONE.search(str(exc)) if self.distributed else None
            if gone is None:
                raise
            _broken = True
            raise PeerLost(
                f"lost contact with another process of this job ({gone.group(0).strip()}): "
                "it stopped or was killed, so this one stops too"
            ) from None

    return checked  # type: ignore[return-value]


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0
    #: Where tensors are exchanged (the GPU under NCCL, else the CPU).
    device: torch.device = torch.device("cpu")
    control: Any = None  # the gloo group for host-side messages (None: the default group)

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def describe(self) -> dict[str, Any]:
        """What the protocol and run.json record about the launch (information only)."""
        return {"processes": self.size, "backend": _backend() if self.distributed else None}

    # ------------------------------------------------------------ collectives

    @collective
    def barrier(self) -> None:
        if self.distributed:
            torch.distributed.barrier(group=self.control)

    @collective
    def broadcast_object(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank."""
        if not self.distributed:
            return value
        box = [value]
        torch.distributed.broadcast_object_list(box, src=0, group=self.control)
        return box[0]

    @collective
    def gather_objects(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order, on every rank."""
        if not self.distributed:
            return [value]
        out: list[Any] = [None] * self.size
        torch.distributed.all_gather_object(out, value, group=self.control)
        return out

    @collective
    def largest(self, value: int) -> int:
        """The largest ``value`` over the ranks: on the host, so it never waits for a GPU."""
        if not self.distributed:
            return value
        t = torch.tensor([value], dtype=torch.long)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX, group=self.control)
        return int(t)

    @collective
    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Logged scalars averaged over the ranks (each rank logs its share of the batch)."""
        if not self.distributed or not values:
            return values
        keys = sorted(values)
        t = torch.tensor([values[k] for k in keys], dtype=torch.float64)
        torch.distributed.all_reduce(t, group=self.control)
        return {k: float(v) / self.size for k, v in zip(keys, t.tolist(), strict=True)}

    @collective
    def broadcast_tensors(self, tensors: list[torch.Tensor]) -> None:
        """Rank 0's values in ``tensors``, in place (parameters and buffers at the start)."""
        if self.distributed:
            for group in _by_dtype(tensors):
                flat = torch.cat([t.detach().reshape(-1) for t in group]).to(self.device)
                torch.distributed.broadcast(flat, src=0)
                _unflatten(flat, group)

    @collective
    def average(self, tensors: list[torch.Tensor]) -> None:
        """Each tensor replaced, in place, by its mean over the ranks: one all-reduce per dtype
        (StyleGAN3's phase-wise gradient averaging, with no DDP wrapper to trip over)."""
        if self.distributed:
            for group in _by_dtype(tensors):
                flat = torch.cat([t.detach().reshape(-1) for t in group]).to(self.device)
                torch.distributed.all_reduce(flat)
                flat /= self.size
                _unflatten(flat, group)

    def sync_buffers(self, buffers: list[torch.Tensor]) -> None:
        """Buffers made equal on every rank before they are sampled with or saved: floating ones
        (BatchNorm's running statistics, each rank's from its own batches) averaged, counters
        taken from rank 0."""
        if self.distributed:
            self.average([b for b in buffers if b.is_floating_point()])
            self.broadcast_tensors([b for b in buffers if not b.is_floating_point()])

    def gather_rows(
        self, rows: dict[str, torch.Tensor], index: torch.Tensor, total: int
    ) -> dict[str, torch.Tensor]:
        """The ``total`` rows of each named tensor that the ranks hold between them, in index
        order, on every rank.

        Rank r holds ``rows[name][k]`` = global row ``index[k]``.  Ranks may hold
        different counts, or none (a rank without rows learns the names, shapes
        and dtypes from the others; padding makes each all-gather rectangular).
        """
        if not self.distributed:
            order = torch.argsort(index)
            return {name: t[order] for name, t in rows.items()}
        specs = {name: (tuple(t.shape[1:]), t.dtype) for name, t in rows.items()}
        shared = self.gather_objects((len(index), specs))
        counts = [count for count, _ in shared]
        specs = {name: spec for _, held in shared for name, spec in held.items()}
        most = max(counts)
        where = torch.full((most,), -1, dtype=torch.long)
        where[: len(index)] = index.long().cpu()
        spots = self._all_gather(where)
        out = {}
        for name, (shape, dtype) in sorted(specs.items()):
            padded = torch.zeros((most, *shape), dtype=dtype)
            if name in rows:
                padded[: len(index)] = rows[name].cpu()
            full = torch.empty((total, *shape), dtype=dtype)
            for part, spot, count in zip(self._all_gather(padded), spots, counts, strict=True):
                full[spot[:count]] = part[:count]
            out[name] = full
        return out

    @collective
    def _all_gather(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        """Every rank's ``tensor`` (same shape everywhere), on the CPU, in rank order."""
        parts = [torch.empty_like(tensor, device=self.device) for _ in range(self.size)]
        torch.distributed.all_gather(parts, tensor.to(self.device))
        return [part.cpu() for part in parts]


def _by_dtype(tensors: list[torch.Tensor]) -> list[list[torch.Tensor]]:
    groups: dict[torch.dtype, list[torch.Tensor]] = {}
    for t in tensors:
        groups.setdefault(t.dtype, []).append(t)
    return list(groups.values())


def _unflatten(flat: torch.Tensor, tensors: list[torch.Tensor]) -> None:
    offset = 0
    for t in tensors:
        n = t.numel()
        t.detach().copy_(flat[offset : offset + n].view_as(t))
        offset += n


def _backend() -> str | None:
    return torch.distributed.get_backend() if torch.distributed.is_initialized() else None


# ------------------------------------------------------------------- joining

_current = World()


def current() -> World:
    """The world ``setup`` joined (a single process before, or without a launcher)."""
    return _current


def launched() -> bool:
    """Whether a launcher (torchrun, ``--nproc``, SLURM through torchrun) started this process."""
    return all(v in os.environ for v in ("RANK", "WORLD_SIZE")) and int(os.environ["WORLD_SIZE"]) > 1


def setup(device: str | torch.device | None = "auto") -> tuple[World, torch.device]:
    """This process's world and compute device; joins the process group on first use.

    Under a launcher ``auto``/``cuda`` mean ``cuda:LOCAL_RANK`` and ``cpu`` means
    gloo on the CPU; naming one GPU for every process is refused.
    """
    global _current
    if not launched():
        return World(), resolve_device(device)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    chosen = resolve_device("cuda" if str(device) == "auto" and torch.cuda.is_available() else device)
    if chosen.type == "cuda":
        if chosen.index is not None and str(device) not in ("auto", "cuda"):
            raise GanzooError(
                f"--device {device} under torchrun: every process would use that one GPU; "
                "pass --device cuda and each process takes cuda:LOCAL_RANK"
            )
        if local_rank >= torch.cuda.device_count():
            raise GanzooError(
                f"LOCAL_RANK {local_rank} but this machine has {torch.cuda.device_count()} "
                "GPU(s); start at most one process per GPU (--nproc-per-node)"
            )
        chosen = torch.device("cuda", local_rank)
        torch.cuda.set_device(chosen)
    if not _current.distributed:
        _current = _join(chosen, local_rank)
    elif _current.device.type != chosen.type:
        raise GanzooError(
            f"this process already joined its group on {_current.device.type}; "
            f"it cannot also compute on {chosen.type}"
        )
    return _current, chosen


def _join(device: torch.device, local_rank: int) -> World:
    backend = "nccl" if device.type == "cuda" else "gloo"
    try:
        torch.distributed.init_process_group(backend, device_id=device if backend == "nccl" else None)
    except (RuntimeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GanzooError(
            f"could not join the process group ({backend}, MASTER_ADDR "
            f"{os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')}): {first}"
        ) from None
    atexit.register(_leave)
    control = torch.distributed.new_group(backend="gloo") if backend == "nccl" else None
    return World(
        rank=torch.distributed.get_rank(),
        size=torch.distributed.get_world_size(),
        local_rank=local_rank,
        device=device if backend == "nccl" else torch.device("cpu"),
        control=control,
    )


def broken() -> bool:
    """Whether a peer was lost: tearing this group down (or leaving it to the interpreter) can
    then end in C++'s ``terminate`` (SIGABRT) after the one line was printed, and the launcher
    would report this survivor as killed too; so the command line ends it with ``os._exit``."""
    return _broken


def _leave() -> None:
    """At exit: destroy the group while the interpreter is whole (gloo's worker threads left to
    the interpreter's teardown can abort the process)."""
    if torch.distributed.is_initialized() and not _broken:
        torch.distributed.destroy_process_group()
