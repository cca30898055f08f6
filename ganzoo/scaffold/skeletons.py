"""The code a new plugin starts from: a model, a dataset, a feature extractor and a tracker
that work.

Python strings rather than data files, so that they ship inside the wheel with
no package-data rule.  ``__NAME__``, ``__PACKAGE__`` and ``__CLASS__`` are
replaced when a plugin is written; each skeleton passes ``ganzoo check`` as
generated (tests/test_scaffold.py proves it).
"""

MODEL = '''"""The __NAME__ model: a small MLP GAN to start from.

Replace the networks and the losses with yours.  ganzoo's trainer runs the
phases (backward, optimizer steps, AMP, EMA, checkpoints and exact resume);
the model only says what to optimise.  See docs/plugins.md, "The Model API".
"""

from dataclasses import dataclass

import ganzoo
import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class __CLASS__Config:
    """Every field needs a default; users change them with --set key=value."""

    z_dim: int = 32
    hidden: int = 128
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    def validate(self) -> None:  # optional: a ValueError becomes a one-line ConfigError
        if self.z_dim < 1 or self.hidden < 1:
            raise ValueError("z_dim and hidden must be positive")


class __CLASS__(ganzoo.Model):
    name = "__NAME__"
    family = "gan"
    description = "A small MLP GAN made by `ganzoo plugin new` (edit me)."
    Config = __CLASS__Config
    ema_modules = ("generator",)  # what --ema averages and samples with

    def build(self) -> None:
        c, dims = self.config, self.spec.dims
        self.generator = nn.Sequential(
            nn.Linear(c.z_dim, c.hidden), nn.ReLU(), nn.Linear(c.hidden, dims), nn.Tanh()
        )
        self.discriminator = nn.Sequential(
            nn.Linear(dims, c.hidden), nn.LeakyReLU(0.2), nn.Linear(c.hidden, 1)
        )

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return {
            "D": torch.optim.Adam(self.discriminator.parameters(), c.lr, betas=c.betas),
            "G": torch.optim.Adam(self.generator.parameters(), c.lr, betas=c.betas),
        }

    def phases(self) -> list[ganzoo.Phase]:
        # Logged as D/loss, D/p_real and G/loss: the trainer prefixes each metric with its phase.
        return [
            ganzoo.Phase("D", "D", self.d_loss),
            ganzoo.Phase("G", "G", self.g_loss, new_batch=False),
        ]

    def _fake(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        z = ganzoo.noise(n, self.config.z_dim, self.device, generator)
        low, high = self.spec.value_range
        x = (self.generator(z) + 1) / 2 * (high - low) + low  # tanh's [-1, 1] -> value_range
        return x.view(n, self.spec.channels, self.spec.height, self.spec.width)

    def d_loss(self, batch: ganzoo.Batch):
        real = self.discriminator(batch.x.flatten(1))
        fake = self.discriminator(self._fake(batch.size).detach().flatten(1))
        loss = F.softplus(-real).mean() + F.softplus(fake).mean()
        return loss, {"p_real": torch.sigmoid(real).mean()}

    def g_loss(self, batch: ganzoo.Batch):
        fake = self.discriminator(self._fake(batch.size).flatten(1))
        return F.softplus(-fake).mean(), {}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        # Float n x C x H x W in spec.value_range, on the model's device (draw_samples checks it).
        return self._fake(n, generator)
'''

DATASET = '''"""The __NAME__ dataset: disks, squares and rings drawn in memory (no files, no download).

Replace ``draw`` with reading your data and keep the contract: ``load`` returns a
ganzoo.ImageData of uint8 N x C x H x W images (with integer labels when the
data has classes), and the same split every time.
"""

import ganzoo
import numpy as np

SIZE = 28
COUNT = 1200
CLASSES = ("disk", "square", "ring")
SEED = 0


def draw(count: int = COUNT, size: int = SIZE, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """``count`` gray shapes (uint8 N x 1 x size x size) and their labels, from a fixed seed."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    labels = rng.integers(0, len(CLASSES), count)
    images = np.zeros((count, 1, size, size), dtype=np.uint8)
    for image, label in zip(images, labels, strict=True):
        cy, cx = rng.uniform(0.3 * size, 0.7 * size, 2)
        radius = rng.uniform(0.15 * size, 0.3 * size)
        distance = np.hypot(yy - cy, xx - cx)
        if label == 0:
            mask = distance <= radius
        elif label == 1:
            mask = (np.abs(yy - cy) <= 0.8 * radius) & (np.abs(xx - cx) <= 0.8 * radius)
        else:
            mask = (distance <= radius) & (distance >= 0.6 * radius)
        image[0][mask] = rng.integers(128, 256)
    return images, labels


def load(split: str, ctx: ganzoo.LoadContext) -> ganzoo.ImageData:
    import torch  # here, not at the top: ganzoo imports plugins without torch

    images, labels = draw()
    index = ganzoo.split_indices(len(labels), split, labels)  # ganzoo's fixed held-out 10%
    spec = ganzoo.DatasetSpec(1, SIZE, SIZE, num_classes=len(CLASSES))
    return ganzoo.ImageData(
        torch.from_numpy(images[index]), torch.from_numpy(labels[index]), spec, "__NAME__", split
    )
'''

EXTRACTOR = '''"""The __NAME__ feature extractor: a fixed random projection of small gray images.

It needs no weights file (its one matrix comes from a fixed seed), so it is a
template to start from.  A learned extractor loads its weights in ``__init__``
from ``feature_extractor_weights_path``, the checked private copy ganzoo makes
of what ``resolve_weights`` returned.  See docs/plugins.md, "Feature extractors".
"""

import ganzoo
import torch
import torch.nn.functional as F
from torch_fidelity.feature_extractor_base import FeatureExtractorBase

SIDE = 16  # images are compared as 16x16 gray
DIMS = 64
SEED = 0


def resolve_weights(user_path: str | None = None) -> ganzoo.ResolvedWeights:
    if user_path is not None:
        raise ganzoo.GanzooError("__NAME__ uses no weights file; drop --extractor-weights")
    return ganzoo.ResolvedWeights(None, None, "none needed (a fixed random projection)")


class __CLASS__(FeatureExtractorBase):
    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        generator = torch.Generator().manual_seed(SEED)
        projection = torch.randn(SIDE * SIDE, DIMS, generator=generator) / SIDE
        self.register_buffer("projection", projection)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # torch-fidelity passes uint8 B x 3 x H x W, at whatever size the images have.
        gray = x.float().div(255.0).mean(dim=1, keepdim=True)
        small = F.interpolate(gray, size=(SIDE, SIDE), mode="bilinear", antialias=True)
        features = small.flatten(1) @ self.projection
        return tuple(features for _ in self.features_list)

    @staticmethod
    def get_provided_features_list() -> tuple[str, ...]:
        return ("features",)

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return "features"

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> torch.Tensor:
        return torch.zeros(1, 3, SIDE, SIDE, dtype=torch.uint8)
'''

TRACKER = '''"""The __NAME__ tracker: every scalar of a run as a row of RUN/__NAME__.csv.

Replace the file with your service's client and keep the contract (docs/plugins.md,
"Trackers"): ``check`` refuses, in one line, before training writes anything;
``__init__`` starts; the ``log_*`` methods are called as training goes; ``finish``
at the end.  A method that raises is reported once and not called again.
"""

import csv
from pathlib import Path
from typing import Any

import ganzoo

FIELDS = ("step", "key", "value")


class __CLASS__(ganzoo.Tracker):
    @classmethod
    def check(cls) -> None:
        # Raise ganzoo.GanzooError("...; pip install ...") when a library or server is missing.
        pass

    def __init__(self, run: ganzoo.TrackerRun) -> None:
        super().__init__(run)
        self.path = run.dir / "__NAME__.csv"
        rows = self._rows()
        if run.resumed_from is not None:  # steps after the resumed checkpoint come again
            rows = [row for row in rows if int(row["step"]) <= run.resumed_from]
        with open(self.path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, FIELDS)
            writer.writeheader()
            writer.writerows(rows)
        self.file = open(self.path, "a", newline="")  # noqa: SIM115  (closed in finish)
        self.writer = csv.DictWriter(self.file, FIELDS)

    def _rows(self) -> list[dict[str, str]]:
        if not self.path.is_file():
            return []
        with open(self.path, newline="") as fh:
            return list(csv.DictReader(fh))

    def log_scalars(self, step: int, scalars: dict[str, float]) -> None:
        self.writer.writerows({"step": step, "key": k, "value": v} for k, v in scalars.items())
        self.file.flush()

    def log_image(self, step: int, tag: str, path: Path) -> None:
        self.writer.writerow({"step": step, "key": f"image:{tag}", "value": str(path)})

    def log_results(self, step: int, results: dict[str, Any], path: Path | None) -> None:
        for key, value in results["metrics"].items():
            self.writer.writerow({"step": step, "key": f"results/{key}", "value": value})

    def finish(self) -> None:
        self.file.close()
'''
