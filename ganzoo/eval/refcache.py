"""Reference images and their cached features/statistics, verified before they are trusted.

torch-fidelity caches a named input's features and FID statistics as
``{cache_name}-{extractor}-features-{layer}.pt`` / ``-stat-fid-{layer}.pt``
under ``cache_root`` (written with an atomic rename).  ganzoo names the entry
after everything that changes it (dataset, split, number of images, extractor,
weights sha256, resize; the layer is in torch-fidelity's file name) and keeps a
manifest of sha256s beside it.  A file that is not in the manifest or does not
match it is deleted before torch-fidelity looks, so it is recomputed instead of
trusted; and since torch-fidelity unpickles what it finds, it is pointed at a
private copy of files proven plain (``staged``), never at the cache itself.
Two evaluations writing at once at worst both recompute: every file and the
manifest are replaced atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_write, atomic_write_text
from ..data.cache import cache_dir
from ..errors import GanzooError
from .extractors import file_sha256
from .safeload import is_plain

#: Real images beyond this many are subsampled with a fixed seed (documented in the protocol).
SUBSET_SEED = 0


class ImagesDataset(torch.utils.data.Dataset):
    """uint8 ``N x C x H x W`` images as torch-fidelity wants them: 3 channels, uint8.

    ``images`` may be a callable returning the tensor, so a reference whose
    features are cached is never loaded at all.
    """

    def __init__(self, images: torch.Tensor | Callable[[], torch.Tensor]) -> None:
        self._images = images if isinstance(images, torch.Tensor) else None
        self._load = None if isinstance(images, torch.Tensor) else images

    @property
    def loaded(self) -> bool:
        return self._images is not None

    @property
    def images(self) -> torch.Tensor:
        if self._images is None:
            self._images = self._load()
        return self._images

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> torch.Tensor:
        image = self.images[index]
        return image.expand(3, -1, -1).contiguous() if image.shape[0] == 1 else image


class Reference:
    """One split of a real dataset as the second input of torch-fidelity, with its cache entry."""

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
    ) -> None:
        self.dataset, self.split, self.limit, self.data_root = dataset, split, limit, data_root
        key = {
            "dataset": dataset,
            "dataset_file": _file_identity(dataset),
            "split": split,
            "num_images": limit if limit is not None else "all",
            "extractor": extractor,
            "weights_sha256": weights_sha256,
            "resize": resize,
            "revision": revision,
        }
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        safe = re.sub(r"[^A-Za-z0-9_.]+", "_", dataset)[:40]
        self.key = key
        self.cache_name = f"ref-{safe}-{split}-{key['num_images']}-{digest}"
        self.root = cache_dir("fidelity")
        self.manifest_path = self.root / f"{self.cache_name}.manifest.json"
        self.inputs = ImagesDataset(self._load_images)
        self._spec: Any = None

    def _load_images(self) -> torch.Tensor:
        from ..data.registry import load_dataset

        data = load_dataset(self.dataset, self.split, data_root=self.data_root)
        self._spec = data.spec
        images = data.images
        if self.limit is not None and self.limit < len(images):
            keep = torch.randperm(len(images), generator=torch.Generator().manual_seed(SUBSET_SEED))
            images = images[keep[: self.limit].sort().values]
        if len(images) == 0:
            raise GanzooError(f"dataset {self.dataset!r} split {self.split!r} has no images")
        return images

    def _files(self) -> list[Path]:
        return sorted(self.root.glob(f"{glob_escape(self.cache_name)}-*.pt"))

    def _read_manifest(self) -> dict[str, Any]:
        try:
            manifest = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError):
            return {"files": {}}
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            return {"files": {}}
        return manifest

    def verify(self) -> None:
        """Delete every cached file that the manifest does not vouch for (missing or changed)."""
        known = self._read_manifest()["files"]
        for path in self._files():
            try:
                good = known.get(path.name) == file_sha256(path)
            except FileNotFoundError:
                continue
            if not good:
                _remove(path)

    def num_images(self) -> int:
        """From the manifest when the cache is valid, else by loading the images."""
        manifest = self._read_manifest()
        if (
            self.inputs.loaded
            or not manifest["files"]
            or not isinstance(manifest.get("num_images"), int)
        ):
            return len(self.inputs)
        return manifest["num_images"]

    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the real images: from the manifest when the cache is valid, else loaded."""
        manifest = self._read_manifest()
        shape = manifest.get("shape")
        if (
            self.inputs.loaded
            or not manifest["files"]
            or not isinstance(shape, list)
            or len(shape) != 3
        ):
            return tuple(self.inputs.images.shape[1:])
        return tuple(shape)

    @contextlib.contextmanager
    def staged(self) -> Iterator[Path]:
        """A private ``cache_root`` for torch-fidelity holding checked copies of this entry.

        torch-fidelity unpickles cached files with ``weights_only=False``, so it
        only sees bytes that the manifest vouches for and that load as plain
        tensors and arrays (checked on the very bytes it gets); a file that
        fails is deleted and recomputed.  What it computes is moved back after.
        """
        private = Path(tempfile.mkdtemp(prefix="ganzoo-refcache-"))
        try:
            known = self._read_manifest()["files"]
            for path in self._files():
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue
                if known.get(path.name) == hashlib.sha256(data).hexdigest() and is_plain(data):
                    (private / path.name).write_bytes(data)
                else:
                    _remove(path)
            staged = {p.name for p in private.iterdir()}
            yield private
            for path in private.glob(f"{glob_escape(self.cache_name)}-*.pt"):
                if path.name not in staged:
                    with atomic_write(self.root / path.name) as fh:
                        fh.write(path.read_bytes())
            self.commit()
        finally:
            shutil.rmtree(private, ignore_errors=True)

    def commit(self) -> None:
        """Record the sha256 of every cache file now present (written by us or a peer, both atomic)."""
        manifest = self._read_manifest()
        files = dict(manifest["files"])
        for path in self._files():
            try:
                files[path.name] = file_sha256(path)
            except FileNotFoundError:
                files.pop(path.name, None)
        files = {name: sha for name, sha in files.items() if (self.root / name).exists()}
        loaded = self.inputs.loaded
        record = {
            "key": self.key,
            "num_images": len(self.inputs) if loaded else manifest.get("num_images"),
            "shape": list(self.inputs.images.shape[1:]) if loaded else manifest.get("shape"),
            "files": files,
        }
        atomic_write_text(self.manifest_path, json.dumps(record, indent=1, sort_keys=True))


def glob_escape(text: str) -> str:
    return re.sub(r"([\[\]*?])", r"[\1]", text)


def _file_identity(dataset: str) -> list | None:
    """Size and mtime of the file behind ``npz:PATH``/``folder:PATH``, so an edited file is a new key."""
    _, sep, arg = dataset.partition(":")
    if not sep or not arg or not os.path.exists(arg):
        return None
    stat = os.stat(arg)
    return [os.path.abspath(arg), stat.st_size, stat.st_mtime_ns]


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
