"""``ExportOptions``: how ``ganzoo export`` writes a model folder, defined once.

``ganzoo.export_run`` and ``ganzoo export`` both take their defaults and
checks from here (the command derives its options from the fields through
``ganzoo.commands.options``).  This module imports no torch, so the command
line can read it while ``ganzoo --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..config import option
from ..errors import GanzooError
from ..load.loaded import EMA_HELP

#: The precisions a folder's weights may be stored in.
DTYPE_NAMES = ("float32", "float16", "bfloat16")


@dataclass(kw_only=True)
class ExportOptions:
    """Which checkpoint is exported, in what precision, and what its card says."""

    out: str = option(dataclasses.MISSING, "The model folder to write (new).", directory=True)
    checkpoint: int | str | None = option(
        None,
        "Checkpoint step, or best: the one in-loop evaluation kept (default: the latest readable).",
        checkpoint=True,
    )
    ema: bool | None = option(None, EMA_HELP)
    dtype: str = option(
        "float32",
        "Precision of the stored weights; below float32 the card's numbers are measured again.",
        choices=DTYPE_NAMES,
    )
    license: str = option("apache-2.0", "For the card.")
    name: str | None = option(None, "The model's name on its card (default: the folder's name).")

    def __post_init__(self) -> None:
        if self.dtype not in DTYPE_NAMES:  # click refuses it too; the library must as well
            raise GanzooError(
                f"--dtype must be one of {', '.join(DTYPE_NAMES)}, not {self.dtype!r}"
            )
