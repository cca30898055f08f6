"""MNIST, Fashion-MNIST and CIFAR-10 through torchvision, from files the user has.

The files live under the data root: ``--data-root`` when given, else
``ganzoo.cache_dir("data")`` (``$GANZOO_CACHE/data``), so that ``--download``
has a stable place to put them.  Without ``--download`` nothing touches the
network; a missing file is a one-line error naming every file and folder
expected, because "Dataset not found" alone does not tell a user what to fetch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import ganzoo


@dataclass(frozen=True)
class TorchvisionSet:
    """Where torchvision expects one dataset's files, relative to the data root."""

    class_name: str
    folder: str
    files: tuple[str, ...]
    channels: int
    size: int


_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

SETS = {
    "mnist": TorchvisionSet("MNIST", "MNIST/raw", _MNIST_FILES, 1, 28),
    "fashion-mnist": TorchvisionSet("FashionMNIST", "FashionMNIST/raw", _MNIST_FILES, 1, 28),
    "cifar10": TorchvisionSet(
        "CIFAR10",
        "cifar-10-batches-py",
        (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta"),
        3,
        32,
    ),
}


def data_root(ctx: ganzoo.LoadContext) -> Path:
    return Path(ctx.data_root) if ctx.data_root is not None else ganzoo.cache_dir("data")


def to_nchw(data: np.ndarray | torch.Tensor, channels: int) -> torch.Tensor:
    """torchvision's N x H x W (gray) or N x H x W x C (colour) arrays as uint8 N x C x H x W."""
    images = torch.as_tensor(np.asarray(data))
    if images.dtype != torch.uint8:
        raise ValueError(f"expected uint8 images, got {images.dtype}")
    if images.dim() == 3:
        images = images.unsqueeze(1)
    elif images.dim() == 4 and images.shape[-1] == channels:
        images = images.permute(0, 3, 1, 2)
    if images.dim() != 4 or images.shape[1] != channels:
        raise ValueError(
            f"cannot read images of shape {tuple(np.shape(data))} as {channels} channels"
        )
    return images.contiguous()


def _missing_message(name: str, info: TorchvisionSet, root: Path) -> str:
    folder = root / info.folder
    return (
        f"dataset {name!r} is not in {folder}: it needs the files {', '.join(info.files)} there "
        f"(point --data-root at the folder holding {info.folder.split('/')[0]}), "
        "or add --download to fetch them"
    )


def _open(name: str, info: TorchvisionSet, root: Path, train: bool, download: bool):
    import torchvision.datasets

    cls = getattr(torchvision.datasets, info.class_name)
    try:
        return cls(str(root), train=train, download=download)
    except Exception as exc:
        if download:
            raise ganzoo.GanzooError(
                f"could not download dataset {name!r} into {root / info.folder}: {exc}"
            ) from exc
        if isinstance(exc, (RuntimeError, OSError, ValueError, EOFError)):
            raise ganzoo.GanzooError(_missing_message(name, info, root)) from exc
        raise


def load(name: str, split: str, ctx: ganzoo.LoadContext) -> ganzoo.ImageData:
    info = SETS[name]
    root = data_root(ctx)
    parts = {"train": (True,), "test": (False,), "all": (True, False)}[split]
    images, labels = [], []
    for train in parts:
        dataset = _open(name, info, root, train, ctx.download)
        images.append(to_nchw(dataset.data, info.channels))
        labels.append(torch.as_tensor(np.asarray(dataset.targets), dtype=torch.int64))
    spec = ganzoo.DatasetSpec(info.channels, info.size, info.size, num_classes=10)
    return ganzoo.ImageData(torch.cat(images), torch.cat(labels), spec, name, split)
