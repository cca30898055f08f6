"""A data order that can be stopped and resumed exactly.

Each epoch is a permutation drawn from its own generator seeded by (seed,
epoch), so the position in the data is two integers and needs no RNG state.
The last incomplete batch of an epoch is dropped, like ``drop_last=True``.
Under torch.distributed every rank draws the same permutation and takes its
own slice (by global rank) of each global batch, so the ranks together see
exactly what one process would, and the position stays two integers.
"""

from __future__ import annotations

import torch

from ..data.base import ImageData
from ..model import Batch


class Batches:
    def __init__(
        self,
        data: ImageData,
        batch_size: int,
        seed: int,
        device: torch.device,
        memory_format: torch.memory_format = torch.contiguous_format,
        rank: int = 0,
        world_size: int = 1,
    ):
        if len(data) < batch_size:
            raise ValueError(f"batch size {batch_size} exceeds the dataset's {len(data)} images")
        self.data = data
        self.batch_size = batch_size
        self.seed = seed
        self.device = device
        self.memory_format = memory_format
        #: This rank's slice of every global batch.
        share = batch_size // world_size
        self.slice = slice(rank * share, (rank + 1) * share)
        # The whole split moves to the device once, as uint8: MNIST-to-CIFAR sizes fit easily.
        self.images = data.images.to(device)
        self.labels = data.labels.to(device) if data.labels is not None else None
        self.epoch = 0
        self.cursor = 0
        self._order = self._permutation(0)

    def _permutation(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(len(self.data), generator=g).to(self.device)

    def next(self) -> Batch:
        if self.cursor + self.batch_size > len(self.data):
            self.epoch += 1
            self.cursor = 0
            self._order = self._permutation(self.epoch)
        index = self._order[self.cursor : self.cursor + self.batch_size][self.slice]
        self.cursor += self.batch_size
        x = self.data.to_float(self.images[index]).contiguous(memory_format=self.memory_format)
        y = self.labels[index] if self.labels is not None else None
        return Batch(x, y)

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "cursor": self.cursor}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        self._order = self._permutation(self.epoch)
