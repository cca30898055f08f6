"""What is being evaluated: a trained model (anything ``ganzoo.load`` loads, a ``Model``) or samples.

Samples from other tools arrive as a folder of images or an ``.npz``, read by
the same rule as ``folder:``/``npz:`` training data (``ganzoo.data.files``) and
checked before anything is computed, so a bad input fails with one line and
writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data.files import read_image_folder, read_image_npz
from ..errors import GanzooError
from ..load.run import load_target
from ..load.target import Target, missing, not_a_target, single_checkpoint, what

#: Model samples are drawn in chunks of this size, each from its own seed, so they depend
#: neither on --batch-size nor on the number of processes.
SAMPLE_CHUNK = 250
#: How generated images are seeded (recorded in the protocol; before it: one generator for all).
SEEDING = "per chunk: chunk c from a generator seeded by (seed, c)"
#: What the evaluator takes besides what the load layer loads (``ganzoo.load.target``).
SAMPLES = ("a folder of sample images", "an .npz of samples")


@dataclass
class Source:
    kind: str  # run | checkpoint | pretrained | model | folder | npz | tensor
    description: str
    model: Any = None
    spec: Any = None
    dataset: str | None = None
    #: The split of ``dataset`` a run trained on (``train`` or ``all``), from its run.json.
    split: str | None = None
    step: int | None = None
    ema: bool | None = None
    selected: str | None = None  # how ``--checkpoint best`` chose the checkpoint
    run_dir: Path | None = None
    images: torch.Tensor | None = None
    #: The classes of fixed images, when the file says (an .npz's ``labels``, as ``ganzoo
    #: sample`` writes them for conditional runs); folders' subfolders do not count.
    labels: torch.Tensor | None = None

    @property
    def has_model(self) -> bool:
        return self.model is not None

    def shape(self) -> tuple[int, int, int]:
        if self.spec is not None:
            return (self.spec.channels, self.spec.height, self.spec.width)
        return tuple(self.images.shape[1:])


def resolve(
    target: Any,
    checkpoint: int | str | None = None,
    device: str | torch.device = "cpu",
    use_ema: bool | None = None,
) -> Source:
    """Classify and load ``target``; every user mistake becomes a one-line GanzooError.

    What a path or name is, and the messages when it is nothing, are the load
    layer's (``ganzoo.load.target``); only samples (a folder of images, an
    ``.npz``) are the evaluator's own.
    """
    from ..model import Model

    if isinstance(target, torch.Tensor):
        return Source("tensor", "tensor", images=check_images(target, "the given tensor"))
    if isinstance(target, Model):
        return Source("model", type(target).__name__, model=target, spec=target.spec)
    found = what(target)
    if found.names_a_model:
        return _from_run(found, checkpoint, device, use_ema)
    if found.kind == "missing":
        raise missing(found, also=SAMPLES)
    path = found.path
    is_npz = path.is_file() and path.suffix == ".npz"
    if checkpoint is not None and (is_npz or path.is_dir()):
        raise single_checkpoint(found, "a file of samples" if is_npz else "a folder of samples")
    if is_npz:
        found_images = read_image_npz(path)
        return Source("npz", str(path), images=found_images.images, labels=found_images.labels)
    if path.is_dir():
        return Source("folder", str(path), images=read_image_folder(path).images)
    raise not_a_target(found, also=SAMPLES)


def _from_run(
    found: Target, checkpoint: int | str | None, device: Any, use_ema: bool | None
) -> Source:
    run = load_target(found, checkpoint=checkpoint, device=device, use_ema=use_ema)
    kind = "pretrained" if found.is_model_folder else found.kind
    return Source(
        kind,
        found.given,
        model=run.model,
        spec=run.spec,
        dataset=run.dataset or None,
        split=(run.info or {}).get("split"),
        step=run.step,
        ema=run.ema,
        selected=run.selected,
        run_dir=run.run_dir,
    )


def check_images(images: Any, where: str) -> torch.Tensor:
    if not isinstance(images, torch.Tensor):
        images = torch.as_tensor(np.asarray(images))
    if images.dtype != torch.uint8:
        raise GanzooError(
            f"{where}: images must be uint8 (0-255), got {images.dtype}; convert them first, "
            "e.g. ganzoo.to_uint8(x, value_range)"
        )
    if images.dim() == 3:  # N x H x W gray
        images = images.unsqueeze(1)
    if images.dim() != 4:
        raise GanzooError(
            f"{where}: expected N x C x H x W images, got shape {tuple(images.shape)}"
        )
    if images.shape[1] not in (1, 3) and images.shape[-1] in (1, 3):
        images = images.permute(0, 3, 1, 2)  # channels-last
    if images.shape[1] not in (1, 3):
        raise GanzooError(
            f"{where}: images must have 1 or 3 channels, got shape {tuple(images.shape)}"
        )
    if images.shape[0] == 0:
        raise GanzooError(f"{where}: no images")
    return images.contiguous()


def match_reference(images: torch.Tensor, shape: tuple[int, int, int], where: str) -> torch.Tensor:
    """Samples must have the reference's size; RGB samples of gray data must really be gray."""
    channels, height, width = shape
    if tuple(images.shape[2:]) != (height, width):
        raise GanzooError(
            f"{where}: samples are {images.shape[2]}x{images.shape[3]} but the reference dataset is "
            f"{height}x{width}; evaluate against a dataset of the same size"
        )
    if images.shape[1] == channels:
        return images
    if channels == 1 and images.shape[1] == 3:
        if not (
            torch.equal(images[:, 0], images[:, 1]) and torch.equal(images[:, 0], images[:, 2])
        ):
            raise GanzooError(f"{where}: samples are colour but the reference dataset is grayscale")
        return images[:, :1].contiguous()
    raise GanzooError(
        f"{where}: samples have {images.shape[1]} channel(s) but the reference dataset has {channels}"
    )


def generate(
    model: Any, n: int, seed: int, value_range: tuple[float, float], world: Any = None
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """This rank's share of ``n`` uint8 samples of ``model``, the classes of all ``n`` (None for
    an unconditional model) and the indices of the rank's images among the ``n``.

    Images come in chunks of ``SAMPLE_CHUNK``; chunk c is drawn from its own CPU
    generator seeded by (seed, c) and made by rank ``c mod world size``.  So
    image i is a function of (seed, i) alone: the same whatever ``--batch-size``
    and however many processes share the work.  A conditional model draws the
    balanced labels of all ``n`` images, chunk by chunk.
    """
    from ..data.base import to_uint8
    from ..model import balanced_labels
    from ..sampling.draw import draw_samples
    from ..seeds import derived_seed
    from .progress import progress

    rank, size = (world.rank, world.size) if world is not None else (0, 1)
    labels = balanced_labels(n, model.spec.num_classes) if model.conditional else None
    starts = list(range(0, n, SAMPLE_CHUNK))[rank::size]
    mine = [range(s, min(n, s + SAMPLE_CHUNK)) for s in starts]
    chunks = []
    with progress(sum(len(r) for r in mine), "sampling") as advance:
        for rows in mine:
            generator = torch.Generator().manual_seed(
                derived_seed(seed, rows.start // SAMPLE_CHUNK)
            )
            chunk = labels[rows.start : rows.stop] if labels is not None else None
            x = draw_samples(model, len(rows), generator, labels=chunk)
            chunks.append(to_uint8(x, value_range).cpu())
            advance(len(rows))
    index = torch.tensor([i for rows in mine for i in rows], dtype=torch.long)
    spec = model.spec
    empty = torch.empty((0, spec.channels, spec.height, spec.width), dtype=torch.uint8)
    images = torch.cat(chunks) if chunks else empty
    return images, labels, index


def timing(clock: dict[str, float], device: torch.device, world: Any) -> dict[str, Any]:
    """What sampling cost this process: seconds per image (wall time of drawing them, at
    ``SAMPLE_CHUNK`` images a call), with the device and process count it depends on."""
    return {
        "seconds_per_image": clock["seconds"] / clock["images"],
        "device": device.type,
        "processes": world.size,
        "images_per_call": SAMPLE_CHUNK,
    }
