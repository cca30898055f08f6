"""Datasets from the user's own files: ``folder:PATH`` and ``npz:PATH``.

A folder of photos is rarely clean, so unreadable or non-image files are
skipped and reported once (with a count and an example) instead of aborting a
long run.  Models need one shape, so images are brought to the most common
size in the folder; datasets that ship no split get ganzoo's fixed-seed split
over the files in sorted order, which keeps train/test stable across runs.
"""

from __future__ import annotations

import warnings
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import torch

import ganzoo

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F"}

# (folder, listing signature) -> decoded folder; a run loads train then test, decode once.
_memo: dict[tuple[str, tuple], tuple] = {}


def _listing(root: Path) -> list[Path]:
    return sorted(
        (p for p in root.rglob("*") if p.is_file()), key=lambda p: p.relative_to(root).as_posix()
    )


def _decode(path: Path) -> np.ndarray:
    """H x W (gray) or H x W x 3 uint8; the first frame of an animation."""
    from PIL import Image

    with Image.open(path) as image:
        image.seek(0)
        image.load()
        mode = "L" if image.mode in GRAY_MODES else "RGB"
        return np.asarray(image.convert(mode), dtype=np.uint8)


def _resize(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    height, width = size
    return np.asarray(Image.fromarray(array).resize((width, height), Image.Resampling.LANCZOS))


def _read_folder(root: Path) -> tuple[torch.Tensor, np.ndarray | None, list[str]]:
    files = _listing(root)
    key = (
        str(root.resolve()),
        tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files),
    )
    if key in _memo:
        return _memo[key]
    arrays, kept, skipped = [], [], []
    for path in files:
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(path)
            continue
        try:
            arrays.append(_decode(path))
        except Exception:  # Pillow raises many types for broken files; skipping is the point
            skipped.append(path)
            continue
        kept.append(path)
    if skipped:
        warnings.warn(
            f"folder:{root}: skipped {len(skipped)} unreadable or non-image file(s), "
            f"e.g. {skipped[0]}",
            stacklevel=2,
        )
    if not arrays:
        raise ganzoo.GanzooError(
            f"folder:{root} holds no readable images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
            "point it at a folder of images"
        )
    size = Counter(a.shape[:2] for a in arrays).most_common(1)[0][0]
    colour = any(a.ndim == 3 for a in arrays)
    images = np.empty((len(arrays), 3 if colour else 1, *size), dtype=np.uint8)
    for i, array in enumerate(arrays):
        if array.shape[:2] != size:
            array = _resize(array, size)
        images[i] = np.moveaxis(np.atleast_3d(array), -1, 0) if array.ndim == 3 else array
    # Labelled only when every image sits inside an immediate subfolder of root.
    parts = [p.relative_to(root).parts for p in kept]
    classes: list[str] = []
    labels = None
    if all(len(part) > 1 for part in parts):
        classes = sorted({part[0] for part in parts})
        lookup = {name: i for i, name in enumerate(classes)}
        labels = np.array([lookup[part[0]] for part in parts], dtype=np.int64)
    _memo.clear()
    _memo[key] = (torch.from_numpy(images), labels, classes)
    return _memo[key]


def load_folder(split: str, ctx: ganzoo.LoadContext) -> ganzoo.ImageData:
    root = Path(ctx.arg or "").expanduser()
    if not ctx.arg or not root.is_dir():
        raise ganzoo.GanzooError(
            f"folder:{ctx.arg or ''} is not a folder; use folder:PATH with an existing folder"
        )
    images, labels, classes = _read_folder(root)
    index = ganzoo.split_indices(images.shape[0], split, labels)
    spec = ganzoo.DatasetSpec(*images.shape[1:], num_classes=len(classes) or None)
    return ganzoo.ImageData(
        images[torch.from_numpy(index)],
        None if labels is None else torch.from_numpy(labels[index]),
        spec,
        f"folder:{ctx.arg}",
        split,
    )


def _to_nchw(array: np.ndarray, where: str) -> np.ndarray:
    """N x H x W, N x H x W x C or N x C x H x W (C = 1 or 3) to N x C x H x W."""
    if array.ndim == 3:
        return array[:, None]
    if array.ndim == 4:
        if array.shape[1] in (1, 3):
            return array
        if array.shape[-1] in (1, 3):
            return np.moveaxis(array, -1, 1)
    raise ganzoo.GanzooError(
        f"{where}: images of shape {array.shape} are not N x H x W, N x H x W x C or N x C x H x W "
        "with C = 1 or 3"
    )


def load_npz(split: str, ctx: ganzoo.LoadContext) -> ganzoo.ImageData:
    where = f"npz:{ctx.arg or ''}"
    path = Path(ctx.arg or "").expanduser()
    if not ctx.arg or not path.is_file():
        raise ganzoo.GanzooError(f"{where}: no such file; use npz:PATH with an existing .npz file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            image_key = next((k for k in ("images", "x") if k in keys), keys[0] if keys else None)
            if image_key is None:
                raise ganzoo.GanzooError(f"{where}: the file holds no arrays")
            images = archive[image_key]
            label_key = next((k for k in ("labels", "y") if k in keys and k != image_key), None)
            labels = archive[label_key] if label_key else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ganzoo.GanzooError(f"{where}: not a readable .npz file ({exc})") from exc
    if images.dtype != np.uint8:
        raise ganzoo.GanzooError(
            f"{where}: images ({image_key!r}) must be uint8 0-255, got {images.dtype}; "
            "convert them first"
        )
    images = np.ascontiguousarray(_to_nchw(images, where))
    if images.shape[0] == 0:
        raise ganzoo.GanzooError(f"{where}: the file holds no images")
    if labels is not None:
        if (
            labels.ndim != 1
            or labels.shape[0] != images.shape[0]
            or not np.issubdtype(labels.dtype, np.integer)
            or labels.min() < 0
        ):
            raise ganzoo.GanzooError(
                f"{where}: labels ({label_key!r}) must be {images.shape[0]} non-negative integers, "
                f"got {labels.dtype} {labels.shape}"
            )
        labels = labels.astype(np.int64)
    index = ganzoo.split_indices(images.shape[0], split, labels)
    spec = ganzoo.DatasetSpec(
        *images.shape[1:], num_classes=None if labels is None else int(labels.max()) + 1
    )
    return ganzoo.ImageData(
        torch.from_numpy(images[index]),
        None if labels is None else torch.from_numpy(labels[index]),
        spec,
        where,
        split,
    )
