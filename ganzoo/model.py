"""The model API every family implements: networks, optimizers and losses, no loop.

A model describes one training iteration as an ordered list of ``Phase``s.
Each phase names the optimizer it steps, how often it repeats, and a loss
function of a batch.  The model never calls ``backward()``/``step()`` and
never moves itself between devices: the ``Trainer`` owns those, so AMP,
gradient clipping, EMA and checkpoints (and, later, distributed
synchronisation) live in one place for every family.

Randomness inside losses (noise vectors, dropout) must come from torch's
global generators (``torch.randn(..., device=x.device)``): the trainer seeds
and checkpoints them, which is what makes resume bitwise exact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from .data.base import DatasetSpec
from .errors import GanzooError

LossFn = Callable[["Batch"], tuple[torch.Tensor, dict[str, Any]]]


@dataclass
class Batch:
    """Real images (floats in the dataset's value range) and labels, on the training device."""

    x: torch.Tensor
    y: torch.Tensor | None = None

    @property
    def size(self) -> int:
        return self.x.shape[0]


@dataclass
class Phase:
    """One optimizer update, repeated ``repeat`` times per training step.

    ``new_batch`` draws fresh real images for every repeat; a phase that only
    needs the batch size (a GAN's generator update) sets it False and reuses the
    previous phase's batch, as the classic GAN loop does.
    """

    name: str
    optimizer: str
    loss: LossFn
    repeat: int = 1
    new_batch: bool = True


class SpecError(GanzooError):
    """The model cannot be built for this dataset's shape."""


class Model(nn.Module):
    """Base class of every generative model in the zoo.

    Subclasses set the class attributes and implement ``build``,
    ``configure_optimizers``, ``phases`` and ``sample``.
    """

    #: Registry name (``ganzoo train --model NAME``).
    name: ClassVar[str]
    #: Family shown by ``ganzoo models`` (``gan``, ``vae``, ``autoregressive``, ...).
    family: ClassVar[str]
    #: One line for ``ganzoo models``.
    description: ClassVar[str]
    #: The hyperparameter dataclass; every field needs a default.
    Config: ClassVar[type]
    #: Submodules whose EMA copy is used for sampling when EMA is on.
    ema_modules: ClassVar[tuple[str, ...]] = ()
    #: Set on a model loaded from a model folder, which stores only the ``ema_modules``
    #: (what sampling needs), when the model has other weights: those are untrained, so
    #: ``bits_per_dim`` (a VAE's bound needs its encoder) is not measured for it.
    sampling_only: bool = False
    #: Whether the trainer keeps an EMA unless told otherwise.
    ema_by_default: ClassVar[bool] = False
    #: Batch size the trainer uses unless ``--batch-size`` is given.
    default_batch_size: ClassVar[int] = 64
    #: Training steps ``ganzoo zoo`` gives the model (times ``--scale``) on mnist5k: a fixed
    #: count, so the zoo's board is the same on every machine.  None: what fits in 2 minutes.
    zoo_steps: ClassVar[int | None] = None
    #: ``Config`` fields that change only how samples are drawn, never the networks (a
    #: sampler, its number of steps, a guidance scale, a temperature): ``ganzoo sample`` and
    #: ``ganzoo eval`` may ``--set`` them on a trained model, and every evaluation records them.
    sampling_fields: ClassVar[tuple[str, ...]] = ()
    #: The default ``--ema-decay`` for this model (a short run needs a short average).
    ema_decay: ClassVar[float] = 0.999

    def __init__(self, config: Any, spec: DatasetSpec) -> None:
        super().__init__()
        self.check_spec(spec)
        self.config = config
        self.spec = spec
        if self.conditional and not spec.num_classes:
            raise SpecError(
                f"model {self.name!r} is class-conditional but the dataset has no labels "
                "(DatasetSpec.num_classes is unset); use a labelled dataset or train it "
                "unconditionally"
            )
        self.build()

    @property
    def conditional(self) -> bool:
        """Whether ``sample`` draws images of given classes (``spec.num_classes`` of them).

        A model class that always is sets ``conditional = True``; one that may be
        reads its config here, as ``dcgan`` does with its ``conditional`` field.
        """
        return False

    @classmethod
    def check_spec(cls, spec: DatasetSpec) -> None:
        """Raise ``SpecError`` for shapes the model cannot handle (default: accept all)."""

    def build(self) -> None:
        """Create the networks as submodules (``self.config`` and ``self.spec`` are set)."""
        raise NotImplementedError

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Optimizers by name, as referenced by ``Phase.optimizer``."""
        raise NotImplementedError

    def configure_schedulers(
        self, optimizers: dict[str, torch.optim.Optimizer]
    ) -> dict[str, torch.optim.lr_scheduler.LRScheduler]:
        """Learning-rate schedulers by optimizer name (default none).

        The trainer steps each one right after its optimizer steps and keeps its
        state in checkpoints, so warmups and decays survive a resume.
        """
        return {}

    def phases(self) -> list[Phase]:
        """One training iteration, in order."""
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` images, float ``n x C x H x W`` in ``spec.value_range``, on the model's device.

        Callers sample through ``draw_samples``, which puts the model in eval mode
        (and restores its mode): an implementation need not switch modes itself.
        A conditional model's ``sample(n, generator=None, labels=None)`` also takes
        the ``n`` classes to draw (None: a balanced draw, see ``sample_labels``).
        """
        raise NotImplementedError

    def sample_labels(self, n: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``labels`` on the model's device, or the balanced draw (image i of class i mod K)."""
        if labels is None:
            labels = balanced_labels(n, self.spec.num_classes)
        return labels.to(self.device, torch.long)

    def nfe(self) -> int:
        """Network evaluations per sampled image under the current config (recorded by ``evaluate``)."""
        return 1

    def bits_per_dim(self, batch: Batch) -> torch.Tensor | None:
        """Per-image negative log-likelihood in bits/dim for likelihood models, else None."""
        return None

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """Image i of class ``i mod num_classes``: equal shares, in any chunking of the same n.

    The model contract's balanced draw (``Model.sample_labels``); ``draw_samples``
    and the evaluator draw the same one, so a conditional model's defaults agree.
    """
    return torch.arange(n) % num_classes


def noise(
    n: int, dim: int, device: torch.device, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Standard normal latents; drawn on the CPU when a CPU generator is given, so seeds are portable."""
    if generator is not None and generator.device.type != torch.device(device).type:
        return torch.randn(n, dim, generator=generator).to(device)
    return torch.randn(n, dim, device=device, generator=generator)


def model_class(name: str) -> type[Model]:
    """The registered model class called ``name`` (close matches suggested on a typo)."""
    from . import plugins

    return plugins.lookup("register_models", name, "model").obj


def model_rows() -> list[dict[str, Any]]:
    """Every registered model as a plain dict (``ganzoo models`` and its ``--json``)."""
    from . import plugins
    from .config import describe

    rows = []
    for name, reg in sorted(plugins.registry("register_models").items()):
        cls = reg.obj
        rows.append(
            {
                "name": name,
                "family": cls.family,
                "plugin": reg.plugin,
                "description": cls.description,
                "alias_of": reg.extra.get("alias_of"),
                "conflicts": reg.conflicts,
                "batch_size": cls.default_batch_size,
                "ema_by_default": cls.ema_by_default,
                "hyperparameters": describe(cls.Config),
                "sampling_fields": list(cls.sampling_fields),
                "zoo_steps": cls.zoo_steps,
            }
        )
    return rows


def build_model(name: str, spec: Any, config: Any = None, **overrides: Any) -> Model:
    """The model ``name`` built for data of ``spec``: the one way to make one from its name.

    Hyperparameters are the model's defaults, then ``config`` (its ``Config`` or
    a dict), then ``overrides``; an unknown key or a value of the wrong type is
    the same one-line ``ConfigError`` that ``--set`` gives.
    """
    from . import config as config_mod

    cls = model_class(name)
    if isinstance(config, cls.Config) and not overrides:
        return cls(config, spec)
    values = config_mod.to_dict(config) if dataclasses.is_dataclass(config) else dict(config or {})
    return cls(config_mod.from_dict(cls.Config, {**values, **overrides}), spec)
