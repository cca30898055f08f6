"""Images from the user's own files: one rule for training data and for samples to score.

The same folder or ``.npz`` means the same images whether ``ganzoo train``
reads it as a dataset (``folder:PATH``, ``npz:PATH``) or ``ganzoo eval`` reads
it as samples; docs/datasets.md states the rule:

* folder: every file below it, in sorted path order.  Files with an image
  suffix are decoded (a file that does not decode is an error naming it);
  hidden files are ignored, other files are ignored with one warning.  Gray
  and colour images together become colour; images of several sizes are
  resized (Lanczos) to the most common size, with one warning.  When every
  image sits in a subfolder, the subfolder names are the class labels.
* npz: the array ``images``, else ``x``, else the file's only array; uint8,
  N x H x W, N x H x W x C or N x C x H x W with C = 1 or 3; labels from
  ``labels`` or ``y`` when present.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import GanzooError, warn

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F"}
IMAGE_KEYS = ("images", "x")
LABEL_KEYS = ("labels", "y")


@dataclass
class FileImages:
    """uint8 N x C x H x W images, with labels (and class names) when the files carry them."""

    images: torch.Tensor
    labels: np.ndarray | None = None
    classes: tuple[str, ...] = ()


# (folder, listing signature) -> decoded folder; a run reads train then test: decode once.
_memo: dict[tuple, FileImages] = {}


def read_image_folder(root: str | Path) -> FileImages:
    """Every image below ``root`` by the rule above; memoised while the folder is unchanged."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise GanzooError(f"{str(root)!r} is not a folder; give an existing folder of images")
    files = sorted(
        (p for p in root.rglob("*") if p.is_file() and not _hidden(p, root)),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    key = (
        str(root.resolve()),
        tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files),
    )
    if key not in _memo:
        _memo.clear()
        _memo[key] = _decode_folder(root, files)
    return _memo[key]


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _decode_folder(root: Path, files: list[Path]) -> FileImages:
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    others = [p for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]
    if not images:
        raise GanzooError(
            f"{str(root)!r} holds no images ({', '.join(IMAGE_SUFFIXES)}); give a folder of images"
        )
    arrays = [_decode(path) for path in images]  # a damaged image stops us before any warning
    if others:
        warn(f"{root}: ignored {len(others)} file(s) that are not images, e.g. {others[0].name}")
    size = Counter(a.shape[:2] for a in arrays).most_common(1)[0][0]
    resized = sum(a.shape[:2] != size for a in arrays)
    if resized:
        warn(
            f"{root}: resized {resized} of {len(arrays)} images to {size[0]}x{size[1]}, the most common size"
        )
    colour = any(a.ndim == 3 for a in arrays)
    out = np.empty((len(arrays), 3 if colour else 1, *size), dtype=np.uint8)
    for i, array in enumerate(arrays):
        if array.shape[:2] != size:
            array = _resize(array, size)
        out[i] = np.moveaxis(np.atleast_3d(array), -1, 0) if array.ndim == 3 else array
    parts = [p.relative_to(root).parts for p in images]
    if not all(len(part) > 1 for part in parts):
        return FileImages(torch.from_numpy(out))
    classes = tuple(sorted({part[0] for part in parts}))
    lookup = {name: i for i, name in enumerate(classes)}
    labels = np.array([lookup[part[0]] for part in parts], dtype=np.int64)
    return FileImages(torch.from_numpy(out), labels, classes)


def _decode(path: Path) -> np.ndarray:
    """H x W (gray) or H x W x 3 uint8; the first frame of an animation."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.seek(0)
            image.load()
            mode = "L" if image.mode in GRAY_MODES else "RGB"
            return np.asarray(image.convert(mode), dtype=np.uint8)
    except Exception:  # Pillow raises many types for a broken file; the user needs only this
        raise GanzooError(
            f"cannot read image {str(path)!r} (damaged or not an image); remove or replace it"
        ) from None


def _resize(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    height, width = size
    return np.asarray(Image.fromarray(array).resize((width, height), Image.Resampling.LANCZOS))


def read_image_npz(path: str | Path) -> FileImages:
    """The images (and labels) of an ``.npz`` by the rule above."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise GanzooError(f"{str(path)!r}: no such file; give an existing .npz file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            image_key = _image_key(keys, path)
            images = archive[image_key]
            label_key = next((k for k in LABEL_KEYS if k in keys and k != image_key), None)
            labels = archive[label_key] if label_key else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        raise GanzooError(
            f"{str(path)!r} is not a readable .npz file (damaged, or not written by numpy.savez); "
            "save the images with numpy.savez(path, images=uint8_array)"
        ) from None
    if images.dtype != np.uint8:
        raise GanzooError(
            f"{str(path)!r}: images ({image_key!r}) must be uint8 0-255, got {images.dtype}; "
            "convert them first, e.g. with ganzoo.to_uint8"
        )
    images = np.ascontiguousarray(_to_nchw(images, path))
    if images.shape[0] == 0:
        raise GanzooError(f"{str(path)!r} holds no images")
    if labels is not None:
        labels = _check_labels(labels, images.shape[0], path, label_key)
    return FileImages(torch.from_numpy(images), labels)


def _image_key(keys: list[str], path: Path) -> str:
    for key in IMAGE_KEYS:
        if key in keys:
            return key
    if len(keys) == 1:
        return keys[0]
    raise GanzooError(
        f"{str(path)!r} holds arrays {keys}; name the images array 'images' (or store only one)"
    )


def _to_nchw(array: np.ndarray, path: Path) -> np.ndarray:
    """N x H x W, N x H x W x C or N x C x H x W (C = 1 or 3) to N x C x H x W."""
    if array.ndim == 3:
        return array[:, None]
    if array.ndim == 4:
        if array.shape[1] in (1, 3):
            return array
        if array.shape[-1] in (1, 3):
            return np.moveaxis(array, -1, 1)
    raise GanzooError(
        f"{str(path)!r}: images of shape {array.shape} are not N x H x W, N x H x W x C or "
        "N x C x H x W with C = 1 or 3"
    )


def _check_labels(labels: np.ndarray, n: int, path: Path, key: str) -> np.ndarray:
    if (
        labels.ndim != 1
        or labels.shape[0] != n
        or not np.issubdtype(labels.dtype, np.integer)
        or (labels.size and labels.min() < 0)
    ):
        raise GanzooError(
            f"{str(path)!r}: labels ({key!r}) must be {n} non-negative integers, "
            f"got {labels.dtype} {labels.shape}"
        )
    return labels.astype(np.int64)
