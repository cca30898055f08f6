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

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
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
    #: Whether the trainer keeps an EMA unless told otherwise.
    ema_by_default: ClassVar[bool] = False
    #: Batch size the trainer uses unless ``--batch-size`` is given.
    default_batch_size: ClassVar[int] = 64
    #: Training steps ``ganzoo zoo`` gives the model (times ``--scale``) on mnist5k: a fixed
    #: count, so the zoo's board is the same on every machine.  None: what fits in 2 minutes.
    zoo_steps: ClassVar[int | None] = None

    def __init__(self, config: Any, spec: DatasetSpec) -> None:
        super().__init__()
        self.check_spec(spec)
        self.config = config
        self.spec = spec
        self.build()

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
        """
        raise NotImplementedError

    def bits_per_dim(self, batch: Batch) -> torch.Tensor | None:
        """Per-image negative log-likelihood in bits/dim for likelihood models, else None."""
        return None

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def noise(
    n: int, dim: int, device: torch.device, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Standard normal latents; drawn on the CPU when a CPU generator is given, so seeds are portable."""
    if generator is not None and generator.device.type != torch.device(device).type:
        return torch.randn(n, dim, generator=generator).to(device)
    return torch.randn(n, dim, device=device, generator=generator)


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode for the block; every submodule's own mode restored whatever happens.

    Restoring each module (not just ``model.train(was_training)``) keeps a
    submodule its author froze in eval mode frozen.
    """
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes:
            module.training = training


@torch.no_grad()
def draw_samples(model: Model, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``model.sample`` in eval mode without gradients, its output checked against the contract.

    The trainer's grids, ``ganzoo sample`` and the evaluator all sample through
    here, so no model has to switch modes itself, and a model that returns the
    wrong shape, dtype, device or scale fails here in one line naming it,
    instead of as a broken grid, a meaningless FID or a crash elsewhere.
    """
    with eval_mode(model):
        images = model.sample(n, generator=generator)
    problem = sample_problem(model, n, images)
    if problem is not None:
        raise GanzooError(f"{_described(model)} sample({n}) returned {problem}; fix its sample()")
    return images


#: Samples may overshoot ``value_range`` by this fraction of its width (float rounding), not more.
RANGE_TOLERANCE = 1e-3


def sample_problem(model: Model, n: int, images: Any) -> str | None:
    """What is wrong with ``images`` as ``n`` samples of ``model``, or None."""
    spec = model.spec
    expected = (n, spec.channels, spec.height, spec.width)
    low, high = spec.value_range
    wanted = f"float in spec.value_range [{low:g}, {high:g}]"
    if not isinstance(images, torch.Tensor):
        return f"a {type(images).__name__}, expected a tensor {_shape(expected)} {wanted}"
    if tuple(images.shape) != expected:
        return f"shape {_shape(images.shape)}, expected {_shape(expected)} (n x C x H x W)"
    if not images.is_floating_point():
        return f"dtype {str(images.dtype).removeprefix('torch.')}, expected {wanted}"
    parameter = next(model.parameters(), None)
    if parameter is not None and images.device != parameter.device:
        return f"a tensor on {images.device}, expected the model's device {parameter.device}"
    if images.numel() == 0:
        return None
    if not torch.isfinite(images).all():
        return "non-finite values (NaN or inf)"
    least, most = float(images.min()), float(images.max())
    slack = RANGE_TOLERANCE * (high - low)
    if least < low - slack or most > high + slack:
        return f"values in [{least:.4g}, {most:.4g}], expected {wanted} (scale the output into it)"
    return None


def _shape(shape: Any) -> str:
    return "x".join(str(int(d)) for d in shape)


def _described(model: Model) -> str:
    """``model 'x' (plugin 'p')``: who to tell about a broken sample."""
    from . import plugins

    name = getattr(model, "name", type(model).__name__)
    try:
        entry = plugins.registry("register_models").get(name)
    except GanzooError:  # another plugin failing (strict mode) must not hide this error
        entry = None
    owner = f" (plugin {entry.plugin!r})" if entry is not None and entry.obj is type(model) else ""
    return f"model {name!r}{owner}"


def model_class(name: str) -> type[Model]:
    """The registered model class called ``name`` (close matches suggested on a typo)."""
    from . import plugins

    return plugins.lookup("register_models", name, "model").obj


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
