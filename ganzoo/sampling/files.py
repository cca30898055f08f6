"""``ganzoo sample`` as a library call: a TARGET's samples written to a PNG grid or an ``.npz``.

``SampleOptions`` is defined once, here, for ``write_samples`` and for the
command, which derives its options from the fields
(``ganzoo.commands.options``), so the library and ``ganzoo sample`` refuse
the same values with the same line.  Drawing goes through
``sampling.draw_samples``, loading through the load layer; this module only
decides what to draw (``--class``) and writes the file.  It imports no torch
until it samples, so ``ganzoo --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import check_ranges, option
from ..errors import GanzooError
from ..eval.request import MAX_IMAGES
from ..load.loaded import EMA_HELP
from ..seeds import MAX_SEED

#: The files ``--out`` may name: the suffix decides what is written.
SUFFIXES = (".png", ".npz")


@dataclass(kw_only=True)
class SampleOptions:
    """What ``ganzoo sample`` draws from a TARGET and where it writes it."""

    checkpoint: int | str | None = option(
        None,
        "Step of the checkpoint, or best: the one in-loop evaluation kept (default: latest).",
        checkpoint=True,
    )
    n: int = option(64, "How many images.", min=1, max=MAX_IMAGES)
    seed: int = option(0, "Seed of the draw: the same seed, the same images.", min=0, max=MAX_SEED)
    ema: bool | None = option(None, EMA_HELP)
    device: str = option("auto", "auto, cpu, cuda or cuda:N.")
    out: str = option(dataclasses.MISSING, "grid.png or samples.npz", file=True)
    sampling: tuple[str, ...] = option(
        (),
        "A sampling-time setting (repeatable; `ganzoo models -v` marks them), "
        "e.g. sampler=ddpm, sample_steps=250.",
        flag="--set",
        metavar="KEY=VALUE",
    )
    classes: str | None = option(
        None,
        "Conditional runs: the classes to draw, --n split evenly, one grid row each "
        "(default: every class).",
        flag="--class",
        metavar="C[,C...]",
    )

    def __post_init__(self) -> None:
        # Refused before a model is loaded: a count of 0, a seed of -1, a file we cannot write.
        check_ranges(self)
        if Path(self.out).suffix.lower() not in SUFFIXES:
            raise GanzooError(f"--out must end in .png or .npz, not {Path(self.out).name!r}")


@dataclass
class WrittenSamples:
    """What ``write_samples`` wrote: the file, how many images, of which classes, from where."""

    path: Path
    n: int
    classes: list[int] | None
    step: int
    ema: bool

    def summary(self) -> str:
        weights = "EMA" if self.ema else "raw"
        drawn = "" if self.classes is None else f" of classes {', '.join(map(str, self.classes))}"
        return (
            f"wrote {self.n} samples{drawn} from step {self.step} ({weights} weights) "
            f"to {self.path}"
        )


def write_samples(target: str | Path, options: SampleOptions) -> WrittenSamples:
    """Sample TARGET (run, checkpoint, model folder or pretrained name) into ``options.out``.

    A ``.png`` is a grid (one row per class when several are drawn); an
    ``.npz`` holds uint8 N×H×W×C ``images`` (and ``labels`` for a conditional
    model), written atomically so a failure never leaves half a file.
    """
    import torch

    from ..config import parse_sets
    from ..device import resolve_device
    from ..errors import warn
    from ..load.run import load_run
    from .draw import applied, draw_samples

    out = Path(options.out)
    device = resolve_device(options.device)
    loaded = load_run(target, options.checkpoint, device=device, use_ema=options.ema)
    if loaded.ema_note:
        warn(loaded.ema_note)
    labels, per_row = class_labels(loaded.model, options.classes, options.n)
    n = options.n if labels is None else len(labels)
    generator = torch.Generator().manual_seed(options.seed)
    with applied(loaded.model, parse_sets(options.sampling)) as model:
        images = draw_samples(model, n, generator, labels).cpu()
    _write(out, images, labels, loaded.spec.value_range, per_row)
    classes = None if labels is None else labels.unique().tolist()
    return WrittenSamples(out, n, classes, loaded.step, loaded.ema)


def _write(out: Path, images: Any, labels: Any, value_range: Any, per_row: int | None) -> None:
    """The grid or the arrays, by ``out``'s suffix."""
    import numpy as np

    from ..data.base import to_uint8
    from ..files.write import atomic_write
    from ..train.logger import save_grid

    if out.suffix.lower() == ".png":
        save_grid(images, value_range, out, per_row)
        return
    array = to_uint8(images, value_range).permute(0, 2, 3, 1).numpy()
    extra = {} if labels is None else {"labels": labels.numpy()}
    with atomic_write(out) as fh:
        np.savez_compressed(fh, images=array, **extra)


def class_labels(model: Any, classes: str | None, n: int) -> tuple[Any, int | None]:
    """(labels, images per grid row) for ``--class``: n split over the classes, class by class.

    Conditional models draw every class unless told; asking an unconditional
    model for classes is a mistake worth one line.
    """
    from .draw import class_rows

    if not model.conditional:
        if classes:
            raise GanzooError(
                f"model {model.name!r} is not class-conditional, so --class cannot apply; "
                "drop it (a conditional model is trained with its conditional setting on)"
            )
        return None, None
    k = model.spec.num_classes
    try:
        chosen = [int(c) for c in classes.split(",") if c.strip()] if classes else list(range(k))
    except ValueError:
        raise GanzooError(f"--class takes class numbers like 3 or 1,3,5, not {classes!r}") from None
    wrong = [c for c in chosen if not 0 <= c < k]
    if wrong or not chosen:
        raise GanzooError(f"--class {classes}: model {model.name!r} draws classes 0 to {k - 1}")
    per_class = max(1, n // len(chosen))
    return class_rows(chosen, per_class), per_class if len(chosen) > 1 else None
