"""Datasets from the user's own files: ``folder:PATH`` and ``npz:PATH``.

Reading follows ganzoo's one rule for user files (``ganzoo.read_image_folder``,
``ganzoo.read_image_npz``; docs/datasets.md), the same that ``ganzoo eval``
applies to samples.  Datasets that ship no split get ganzoo's fixed-seed split
over the files in sorted order, which keeps train/test stable across runs.
"""

from __future__ import annotations

import torch

import ganzoo


def _as_dataset(found, where: str, split: str) -> ganzoo.ImageData:
    index = ganzoo.split_indices(found.images.shape[0], split, found.labels)
    labels = found.labels
    num_classes = len(found.classes) or (None if labels is None else int(labels.max()) + 1)
    spec = ganzoo.DatasetSpec(*found.images.shape[1:], num_classes=num_classes)
    return ganzoo.ImageData(
        found.images[torch.from_numpy(index)],
        None if labels is None else torch.from_numpy(labels[index]),
        spec,
        where,
        split,
    )


def load_folder(split: str, ctx: ganzoo.LoadContext) -> ganzoo.ImageData:
    if not ctx.arg:
        raise ganzoo.GanzooError("folder: needs a path; use folder:PATH with an existing folder")
    return _as_dataset(ganzoo.read_image_folder(ctx.arg), f"folder:{ctx.arg}", split)


def load_npz(split: str, ctx: ganzoo.LoadContext) -> ganzoo.ImageData:
    if not ctx.arg:
        raise ganzoo.GanzooError("npz: needs a path; use npz:PATH with an existing .npz file")
    return _as_dataset(ganzoo.read_image_npz(ctx.arg), f"npz:{ctx.arg}", split)
