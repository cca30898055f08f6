"""How much of a distributed training step the gradient averaging takes (docs/distributed.md).

Usage: OMP_NUM_THREADS=1 torchrun --standalone --nproc-per-node 2 scripts/perf/allreduce_share.py [MODEL] [STEPS]
Trains MODEL (default dcgan) for 20 warm-up and STEPS (default 200) timed steps,
timing every ``World.average`` call (the flatten, all-reduce, divide and copy
back of one phase's gradients) against the whole run; rank 0 prints the share.
Each call is preceded by a timed barrier, so the time one rank waits for the
other (they finish their backward passes at different moments) is told apart
from the averaging itself.
"""

from __future__ import annotations

import sys
import time

import torch

import ganzoo
from ganzoo.dist.world import World
from ganzoo.train.trainer import Trainer, TrainOptions

spent = [0.0, 0.0]  # waiting at the barrier, averaging
_average = World.average


def timed_average(self: World, tensors: list[torch.Tensor]) -> None:
    start = time.perf_counter()
    torch.distributed.barrier()
    arrived = time.perf_counter()
    _average(self, tensors)
    spent[0] += arrived - start
    spent[1] += time.perf_counter() - arrived


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "dcgan"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    World.average = timed_average
    data = ganzoo.load_dataset("mnist5k", "train")
    torch.manual_seed(0)
    model = ganzoo.build_model(name, data.spec, {})
    trainer = Trainer(model, data, TrainOptions(steps=20, device="cpu", quiet=True))
    trainer.fit()
    trainer.options.steps = 20 + steps
    spent[:] = [0.0, 0.0]
    start = time.perf_counter()
    trainer.fit()
    total = time.perf_counter() - start
    if trainer.world.is_main:
        size = sum(p.numel() for p in model.parameters())
        print(
            f"{name} ({size:,} parameters) on {trainer.world.size} processes, batch "
            f"{trainer.batch_size}: {steps / total:.1f} steps/s; of {total:.2f} s, waiting for "
            f"the other rank {spent[0]:.2f} s ({100 * spent[0] / total:.1f}%), gradient "
            f"averaging {spent[1]:.2f} s ({100 * spent[1] / total:.1f}%)"
        )


if __name__ == "__main__":
    main()
