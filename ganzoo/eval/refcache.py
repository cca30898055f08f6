"""Reference images and their cached features: one safetensors file per reference.

The features of the real images are what every evaluation against the same
reference shares, so they are computed once and kept under
``$GANZOO_CACHE/fidelity/`` in a file named after everything that changes them
(dataset, the file behind ``npz:``/``folder:``, split, number of images,
extractor, weights sha256, resize, revision).  safetensors holds raw tensors
and a JSON header only: a cache file cannot run code, whoever wrote it.  A file
that cannot be read, or lacks a layer, is recomputed and replaced atomically;
two evaluations writing at once at worst both compute.  Under torch.distributed
every rank computes its share of missing features and rank 0 alone writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..data.cache import cache_dir
from ..errors import GanzooError
from ..files.write import atomic_write

#: Real images beyond this many are subsampled with a fixed seed (documented in the protocol).
SUBSET_SEED = 0
#: The tensor holding the reference images' class labels, beside the feature layers.
LABELS = "ganzoo.labels"


class Reference:
    """One split of a real dataset, and its features under one extractor (cached)."""

    def __init__(
        self,
        dataset: str,
        split: str,
        extractor: str,
        weights_sha256: str | None,
        resize: str,
        revision: int = 1,
        limit: int | None = None,
        data_root: str | Path | None = None,
        world: Any = None,
    ) -> None:
        from ..dist import World

        self.dataset, self.split, self.limit, self.data_root = dataset, split, limit, data_root
        self.world = world or World()
        self.key = {
            "dataset": dataset,
            "dataset_file": _file_identity(dataset),
            "split": split,
            "num_images": limit if limit is not None else "all",
            "extractor": extractor,
            "weights_sha256": weights_sha256,
            "resize": resize,
            "revision": revision,
        }
        digest = hashlib.sha256(json.dumps(self.key, sort_keys=True).encode()).hexdigest()[:16]
        safe = re.sub(r"[^A-Za-z0-9_.]+", "_", dataset)[:40]
        self.cache_name = f"ref-{safe}-{split}-{self.key['num_images']}-{digest}"
        self.path = cache_dir("fidelity") / f"{self.cache_name}.safetensors"
        self._images: torch.Tensor | None = None

    @property
    def images(self) -> torch.Tensor:
        """The real images, uint8 N x C x H x W (loaded only when features must be computed)."""
        if self._images is None:
            self._images = self._load_images()
        return self._images

    def _load_images(self) -> torch.Tensor:
        from ..data.registry import load_dataset

        images = load_dataset(self.dataset, self.split, data_root=self.data_root).images
        if self.limit is not None and self.limit < len(images):
            keep = torch.randperm(len(images), generator=torch.Generator().manual_seed(SUBSET_SEED))
            images = images[keep[: self.limit].sort().values]
        if len(images) == 0:
            raise GanzooError(f"dataset {self.dataset!r} split {self.split!r} has no images")
        return images

    def _header(self) -> dict[str, str]:
        """The cache file's metadata ({} when there is no readable file)."""
        from safetensors import safe_open

        try:
            with safe_open(str(self.path), framework="pt") as fh:
                return dict(fh.metadata() or {})
        except Exception:  # absent or damaged: recomputed when features are needed
            return {}

    def num_images(self) -> int:
        """From the cache when present, else by loading the images."""
        header = self._header()
        return int(header["num_images"]) if "num_images" in header else len(self.images)

    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the real images: from the cache when present, else loaded."""
        header = self._header()
        if "shape" in header:
            return tuple(json.loads(header["shape"]))
        return tuple(self.images.shape[1:])

    def features(
        self, layers: tuple[str, ...], encode: Callable[[torch.Tensor], dict[str, torch.Tensor]]
    ) -> dict[str, torch.Tensor]:
        """The real features of ``layers``: cached, or computed with ``encode`` and cached.

        Under torch.distributed ``encode`` is a collective, so the ranks decide together:
        when any rank lacks the file (machines without a shared cache) all compute.
        """
        cached = self._read()
        missing = not all(layer in cached for layer in layers)
        if not self.world.largest(int(missing)):
            return {layer: cached[layer] for layer in layers}
        computed = encode(self.images)
        self._write({**cached, **computed})
        return {layer: computed[layer] for layer in layers}

    def _read(self) -> dict[str, torch.Tensor]:
        from safetensors.torch import load_file

        if not self.path.is_file():
            return {}
        try:
            return load_file(str(self.path))
        except Exception:  # a damaged file is recomputed, never trusted
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            return {}

    def _write(self, tensors: dict[str, torch.Tensor]) -> None:
        from safetensors.torch import save

        if not self.world.is_main:
            return
        header = {
            "num_images": str(len(self.images)),
            "shape": json.dumps(list(self.images.shape[1:])),
            "key": json.dumps(self.key, sort_keys=True),
        }
        data = save({k: v.contiguous() for k, v in tensors.items()}, metadata=header)
        with atomic_write(self.path) as fh:
            fh.write(data)

    # -- Class labels of the reference images (intra-FID), kept in the same file. ------------

    def labels(self) -> torch.Tensor | None:
        """The labels of ``images``, in their order; None for a dataset without labels."""
        cached = self._read()
        if LABELS in cached:
            return cached[LABELS]
        from ..data.registry import load_dataset

        labels = load_dataset(self.dataset, self.split, data_root=self.data_root).labels
        if labels is None:
            return None
        if self.limit is not None and self.limit < len(labels):  # the subset of _load_images
            keep = torch.randperm(len(labels), generator=torch.Generator().manual_seed(SUBSET_SEED))
            labels = labels[keep[: self.limit].sort().values]
        labels = labels.to(torch.int64).contiguous()
        self._write({**cached, LABELS: labels})
        return labels


def _file_identity(dataset: str) -> list | None:
    """Size and mtime of the file behind ``npz:PATH``/``folder:PATH``, so an edited file is a new key."""
    _, sep, arg = dataset.partition(":")
    if not sep or not arg or not os.path.exists(arg):
        return None
    stat = os.stat(arg)
    return [os.path.abspath(arg), stat.st_size, stat.st_mtime_ns]
