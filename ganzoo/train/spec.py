"""``RunSpec``: what a run trains and where, defined once for ``ganzoo train`` and the library.

``TrainOptions`` says how to train; this says what: the model, its data, its
hyperparameters (a TOML file, then ``--set``) and the run directory.  Each
field is also a ``ganzoo train`` option (``ganzoo.commands.options``).  A bad
folder or name is refused here, before any process starts.  No torch at import.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..config import option
from ..errors import ConfigError

#: A run name: one folder under runs/, never a path.
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(kw_only=True)
class RunSpec:
    """The model, data, hyperparameters and run directory of one training run."""

    model: str = option(
        dataclasses.MISSING, "Model name (see `ganzoo models`).", short="-m", metavar="NAME"
    )
    dataset: str = option("mnist5k", "Dataset name or folder:PATH / npz:PATH.", short="-d")
    split: Literal["train", "all"] = option("train", "Which part of the dataset trains.")
    data_root: str | None = option(None, "Where file-based datasets live.", directory=True)
    download: bool = option(False, "Allow torchvision datasets to download.")
    sets: tuple[str, ...] = option(
        (), "Set a hyperparameter (repeatable).", flag="--set", metavar="KEY=VALUE"
    )
    config: str | None = option(None, "TOML file of hyperparameters.", file=True)
    out: str | None = option(
        None,
        "Run directory; reusing one resumes it. Default: runs/<model>-<dataset>-<time>.",
        directory=True,
    )
    name: str | None = option(
        None, "Run name used in the default --out instead of the time (letters, digits, . _ -)."
    )

    def __post_init__(self) -> None:
        if self.out is not None and not self.out.strip():  # would silently use a generated folder
            raise ConfigError("--out must name a folder; leave --out out for runs/<model>-...")
        if self.name is not None and not PLAIN_NAME.fullmatch(self.name):
            raise ConfigError(
                f"--name {self.name!r} is not a plain name (letters, digits, '.', '_', '-'; "
                "no '/' or '..'); to put the run elsewhere use --out"
            )

    def run_dir(self) -> Path:
        """``--out``, or ``runs/<model>-<dataset>-<name or time>`` (a new time at each call)."""
        from .run import default_run_dir

        return Path(self.out) if self.out else default_run_dir(self.model, self.dataset, self.name)

    def hyperparameters(self) -> Any:
        """The model's ``Config``: its defaults, then ``--config``, then each ``--set``."""
        from ..config import resolve
        from ..model import model_class

        return resolve(model_class(self.model).Config, self.sets, self.config)

    def data(self) -> dict[str, Any]:
        """The data keywords of ``train_run``."""
        return {
            "dataset": self.dataset,
            "split": self.split,
            "data_root": self.data_root,
            "download": self.download,
        }
