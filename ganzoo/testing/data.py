"""Tiny real data for tests, and the conformance of a dataset.

Checks run on real images, not random tensors: a few hundred mnist5k digits
(embedded, offline), resized and repeated across channels when a model is
checked at another shape.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

import torch

from .. import plugins
from ..data.base import DatasetSpec, ImageData
from ..data.registry import load_dataset
from ..device import cpu_threads
from .imports import imports_no_torch
from .report import Report, fail

#: Test images whose exact copy may also sit in train before the splits count as overlapping.
MAX_OVERLAP = 0.01


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread for the block: the checks' networks are tiny and gain nothing from
    more, while on cores shared with other jobs torch's spinning threads make them many times
    slower (measured: 12 s instead of 0.3 s to sample a small Transformer on two busy cores)."""
    with cpu_threads(1):
        yield


def shape_text(spec: DatasetSpec) -> str:
    return f"{spec.channels}x{spec.height}x{spec.width}"


def tiny_data(spec: DatasetSpec | None = None, n: int = 256, split: str = "train") -> ImageData:
    """The first ``n`` mnist5k images of ``split``, brought to ``spec``'s shape when one is given."""
    base = load_dataset("mnist5k", split)
    images, labels = base.images[:n], base.labels[:n]
    if spec is None:
        return ImageData(images, labels, base.spec, base.name, split)
    if (spec.height, spec.width) != tuple(images.shape[2:]):
        x = torch.nn.functional.interpolate(
            images.float(), size=(spec.height, spec.width), mode="bilinear", antialias=True
        )
        images = x.round().clamp(0, 255).to(torch.uint8)
    images = images.repeat(1, spec.channels, 1, 1)
    if spec.num_classes is None or spec.num_classes < 10:
        labels = None
    same = shape_text(spec) == shape_text(base.spec)
    return ImageData(
        images, labels, spec, base.name if same else f"mnist5k-{shape_text(spec)}", split
    )


class DatasetChecks:
    def __init__(self, name: str, data_root: Any = None) -> None:
        self.name, self.data_root = name, data_root
        self.splits: dict[str, Any] = {}

    def _load(self, split: str) -> Any:
        return load_dataset(self.name, split, data_root=self.data_root)

    def registered(self) -> str:
        base, sep, _ = self.name.partition(":")
        entry = plugins.lookup("register_datasets", base, "dataset")
        takes = bool(entry.extra.get("takes_argument"))
        if takes and not sep:
            fail(f"dataset {base!r} takes an argument: check it as {base}:ARG")
        return f"registered by plugin {entry.plugin!r}"

    def loads(self) -> str:
        for split in ("train", "test", "all"):
            data = self._load(split)
            if not isinstance(data, ImageData):
                fail(
                    f"the loader returned a {type(data).__name__} for {split!r}, not a ganzoo.ImageData"
                )
            if data.split != split:
                fail(f"asked for split {split!r}, the loader returned split {data.split!r}")
            self.splits[split] = data
        return ", ".join(f"{s} {len(d)}" for s, d in self.splits.items())

    def format(self) -> str:
        spec = self.splits["train"].spec
        low, high = spec.value_range
        if not low < high:
            fail(f"spec.value_range {spec.value_range} must run from low to high")
        for split, data in self.splits.items():
            if data.spec != spec:
                fail(f"split {split!r} has spec {data.spec}, train has {spec}")
            if len(data) < 1:
                fail(f"split {split!r} is empty")
            images = data.images
            if images.dtype != torch.uint8 or tuple(images.shape[1:]) != _shape(spec):
                fail(
                    f"split {split!r}: images are {images.dtype} {tuple(images.shape)}, expected "
                    f"uint8 N x {shape_text(spec).replace('x', ' x ')}"
                )
        train, test, everything = (len(self.splits[s]) for s in ("train", "test", "all"))
        if everything != train + test:
            fail(f"split 'all' has {everything} images but train + test have {train + test}")
        return f"uint8 Nx{shape_text(spec)}, value_range {tuple(spec.value_range)}"

    def labels(self) -> str:
        spec = self.splits["train"].spec
        present = {split: data.labels is not None for split, data in self.splits.items()}
        if len(set(present.values())) > 1:
            fail(f"labels in some splits only: {present}")
        if not present["train"]:
            return "unlabelled"
        if spec.num_classes is None:
            fail(
                "the images have labels but spec.num_classes is None; set DatasetSpec(num_classes=K)"
            )
        for split, data in self.splits.items():
            y = data.labels
            if y.dtype.is_floating_point or y.shape != (len(data),):
                fail(f"split {split!r}: labels must be N integers, got {y.dtype} {tuple(y.shape)}")
            if len(y) and (int(y.min()) < 0 or int(y.max()) >= spec.num_classes):
                fail(
                    f"split {split!r}: labels span {int(y.min())}..{int(y.max())}, outside "
                    f"0..{spec.num_classes - 1} (spec.num_classes)"
                )
        return f"{spec.num_classes} classes"

    def disjoint(self) -> str:
        train = {_digest(image) for image in self.splits["train"].images}
        test = self.splits["test"].images
        shared = sum(_digest(image) in train for image in test)
        if shared > MAX_OVERLAP * len(test):
            fail(
                f"{shared} of {len(test)} test images are also in train; hold out a fixed part "
                "(ganzoo.split_indices(n, split, labels))"
            )
        return f"{shared} of {len(test)} test images also in train"

    def stable(self) -> str:
        for split in ("train", "test"):
            again, first = self._load(split), self.splits[split]
            same_labels = (again.labels is None and first.labels is None) or (
                again.labels is not None
                and first.labels is not None
                and torch.equal(again.labels, first.labels)
            )
            if not torch.equal(again.images, first.images) or not same_labels:
                fail(f"loading split {split!r} twice gave different data; seed any random split")
        return "the same images and labels on every load"

    def lazy_import(self) -> str:
        from .imports import plugin_of

        entry = plugins.lookup("register_datasets", self.name.partition(":")[0], "dataset")
        return imports_no_torch(*plugin_of("register_datasets", entry.obj))


def _shape(spec: DatasetSpec) -> tuple[int, int, int]:
    return (spec.channels, spec.height, spec.width)


def _digest(image: torch.Tensor) -> bytes:
    return hashlib.blake2b(image.contiguous().numpy().tobytes(), digest_size=16).digest()


def dataset_report(name: str, data_root: Any = None) -> Report:
    checks = DatasetChecks(name, data_root)
    report = Report(f"dataset {name!r}")
    report.run("registered", checks.registered)
    report.run("loads", checks.loads, needs=("registered",))
    report.run("format", checks.format, needs=("loads",))
    report.run("labels", checks.labels, needs=("loads",))
    report.run("splits-disjoint", checks.disjoint, needs=("format",))
    report.run("stable", checks.stable, needs=("loads",))
    report.run("import-without-torch", checks.lazy_import, needs=("registered",))
    return report
