"""Drawing samples: the one path (``draw_samples``), the sample contract, labels and settings.

``draw_samples`` is how the trainer's grids, ``ganzoo sample`` and the
evaluator sample every model, so the contract (shape, dtype, device, range,
finite) and the labels of a conditional model are checked in one place.  A
model's sampling-time settings (``Model.sampling_fields``: a sampler, its
steps, a guidance scale) are config fields that ``applied`` changes on a
trained model for the length of a block; ``record`` is what an evaluation
writes down about how its images were drawn.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ..errors import GanzooError
from ..model import balanced_labels, model_class


def class_rows(classes: list[int], per_class: int) -> torch.Tensor:
    """Each class repeated ``per_class`` times, class after class: one grid row per class."""
    return torch.tensor(classes).repeat_interleave(per_class)


def checked_labels(model: Any, n: int, labels: Any) -> torch.Tensor | None:
    """The labels ``model.sample`` gets: None for unconditional models, else n valid classes."""
    if not getattr(model, "conditional", False):
        if labels is not None:
            raise GanzooError(
                f"{_described(model)} is not class-conditional; it cannot sample given classes"
            )
        return None
    k = model.spec.num_classes
    if labels is None:
        return balanced_labels(n, k)
    labels = torch.as_tensor(labels)
    if labels.dim() != 1 or labels.shape[0] != n or labels.is_floating_point():
        raise GanzooError(
            f"{_described(model)}: sample({n}) takes {n} integer class labels, "
            f"got shape {tuple(labels.shape)} {str(labels.dtype).removeprefix('torch.')}"
        )
    if n and (int(labels.min()) < 0 or int(labels.max()) >= k):
        wrong = sorted({int(c) for c in labels.tolist() if not 0 <= c < k})
        raise GanzooError(f"{_described(model)} draws classes 0 to {k - 1}, not {wrong}")
    return labels.long()


def settings(model: Any) -> dict[str, Any]:
    """The model's sampling-time settings as JSON values (empty for models without any)."""
    from ..config import to_dict

    values = to_dict(model.config) if dataclasses.is_dataclass(model.config) else {}
    return {name: values.get(name) for name in getattr(model, "sampling_fields", ())}


def parse_overrides(model: Any, overrides: Any) -> Any:
    """The model's config with ``overrides`` (``{"k": "v"}`` or ``("k=v", ...)``) applied, checked."""
    from ..config import from_dict, parse_sets, to_dict

    pairs = parse_sets(list(overrides)) if not isinstance(overrides, dict) else dict(overrides)
    allowed = tuple(getattr(model, "sampling_fields", ()))
    wrong = sorted(set(pairs) - set(allowed))
    if wrong:
        can = f"only {', '.join(allowed)} can" if allowed else "nothing can"
        raise GanzooError(
            f"{', '.join(map(repr, wrong))} cannot change after training: model "
            f"{model.name!r} fixes its other settings when it is trained; {can} be set to sample"
        )
    return from_dict(type(model.config), {**to_dict(model.config), **pairs})


def stored_settings(info: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any] | None:
    """The settings a run's model samples with (its ``run.json``) after ``overrides``, without
    loading it; None when its model is not installed (scoring it will say so)."""
    from types import SimpleNamespace

    from ..config import from_dict, to_dict

    try:
        cls = model_class(info.get("model") or "")
        config = from_dict(cls.Config, info.get("hyperparameters") or {})
    except GanzooError:
        return None
    run = SimpleNamespace(name=cls.name, sampling_fields=cls.sampling_fields, config=config)
    values = to_dict(parse_overrides(run, overrides))
    return {name: values.get(name) for name in cls.sampling_fields}


@contextlib.contextmanager
def applied(model: Any, overrides: Any) -> Iterator[Any]:
    """``model`` sampling with ``overrides`` for the block; its own config restored after."""
    if not overrides:
        yield model
        return
    original, model.config = model.config, parse_overrides(model, overrides)
    try:
        yield model
    finally:
        model.config = original


def record(model: Any) -> dict[str, Any]:
    """How an evaluation drew a model's images: cost, settings and, if conditional, the labels."""
    conditional = bool(getattr(model, "conditional", False))
    return {
        "nfe": int(model.nfe()),
        "settings": settings(model),
        "labels": "balanced: image i of class i mod num_classes" if conditional else None,
    }


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
def draw_samples(
    model: Any,
    n: int,
    generator: torch.Generator | None = None,
    labels: Any = None,
) -> torch.Tensor:
    """``model.sample`` in eval mode without gradients, its output checked against the contract.

    The trainer's grids, ``ganzoo sample`` and the evaluator all sample through
    here, so no model has to switch modes itself, and a model that returns the
    wrong shape, dtype, device or scale fails here in one line naming it,
    instead of as a broken grid, a meaningless FID or a crash elsewhere.
    ``labels`` (n class indices) are for conditional models only; for them None
    is the balanced draw, so every caller that does not choose gets the same one.
    """
    labels = checked_labels(model, n, labels)
    with eval_mode(model):
        if labels is None:
            images = model.sample(n, generator=generator)
        else:
            images = model.sample(n, generator=generator, labels=labels.to(_device(model)))
    problem = sample_problem(model, n, images)
    if problem is not None:
        raise GanzooError(f"{_described(model)} sample({n}) returned {problem}; fix its sample()")
    return images


#: Samples may overshoot ``value_range`` by this fraction of its width (float rounding), not more.
RANGE_TOLERANCE = 1e-3


def sample_problem(model: Any, n: int, images: Any) -> str | None:
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


def _device(model: Any) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _shape(shape: Any) -> str:
    return "x".join(str(int(d)) for d in shape)


def _described(model: Any) -> str:
    """``model 'x' (plugin 'p')``: who to tell about a broken sample."""
    from .. import plugins

    name = getattr(model, "name", type(model).__name__)
    try:
        entry = plugins.registry("register_models").get(name)
    except GanzooError:  # another plugin failing (strict mode) must not hide this error
        entry = None
    owner = f" (plugin {entry.plugin!r})" if entry is not None and entry.obj is type(model) else ""
    return f"model {name!r}{owner}"
