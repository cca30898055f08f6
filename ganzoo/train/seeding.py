"""Random streams per rank, and their place in a checkpoint.

The noise inside losses (latents, diffusion timesteps, dropout) comes from
torch's global generator.  One process seeds it with ``seed``.  Under
torch.distributed rank 0 keeps ``seed`` and every other rank gets a stream of
its own derived from (seed, rank): ranks must not draw the same latents, and a
1-process run stays bitwise what it always was.  A checkpoint stores every
rank's state, so a run resumed on as many processes continues exactly.
"""

from __future__ import annotations

from typing import Any

import torch

from ..dist import World
from ..seeds import derived_seed


def rank_seed(seed: int, rank: int) -> int:
    return seed if rank == 0 else derived_seed(seed, rank)


def _own(device: torch.device) -> dict[str, torch.Tensor]:
    rng = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(device)
    return rng


def _set(rng: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(rng["torch"])
    if device.type == "cuda" and "cuda" in rng:
        torch.cuda.set_rng_state(rng["cuda"], device)


def rng_state(device: torch.device, world: World) -> dict[str, Any]:
    """Rank 0's state at the top level (as a 1-process checkpoint has it), and every rank's
    under ``ranks`` when there are several (a collective: every rank calls it)."""
    own = _own(device)
    if not world.distributed:
        return own
    everyone = world.gather_objects({k: v.cpu() for k, v in own.items()})
    return {**everyone[0], "ranks": everyone}


def restore_rng(
    rng: dict[str, Any], device: torch.device, world: World, seed: int, step: int
) -> str | None:
    """Set this rank's stream from a checkpoint; a note when it cannot be the saved one.

    A checkpoint of N processes resumed on M != N has no stream for some ranks:
    every rank is then reseeded from (seed, step, rank), so data order and
    weights continue exactly but the losses' noise differs from an
    uninterrupted run.
    """
    saved = rng.get("ranks") or [rng]
    if len(saved) == world.size:
        _set(saved[world.rank], device)
        return None
    torch.manual_seed(derived_seed(seed, step, world.rank))
    return (
        f"resumed a {len(saved)}-process checkpoint on {world.size} process(es): weights, "
        "optimizer state and data order continue exactly, but the noise in the losses is "
        "reseeded per rank, so the run is no longer bitwise the uninterrupted one"
    )
