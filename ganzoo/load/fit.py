"""Whether a folder's config builds networks that its weights fit, decided without allocating.

The model a config describes is built first on torch's ``meta`` device, where
tensors have shapes and dtypes but no storage, so a config that asks for a
layer of a billion units costs nothing.  Its sampling tensors are compared
with the shapes the weights file's header declares (``header.py``), and the
networks that are not in the file (a GAN's discriminator, a VAE's encoder,
buffers) are bounded by a multiple of those that are.  Only a config that
passes is built for real, so loading allocates in proportion to the file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from ..data.base import DatasetSpec
from ..errors import GanzooError
from .fields import shown
from .folder import WEIGHTS, sampling_state
from .header import TensorInfo

#: The networks a folder's weights leave out may be at most this many times those it holds ...
OUTSIDE_FACTOR = 8
#: ... plus this many bytes: a small generator may come with a larger discriminator.
OUTSIDE_SLACK = 64 * 2**20
#: In-place operations that only change values (initialisers, mostly): a no-op on the meta
#: device, where there are none.  torch would run most of them through its compiler,
#: importing it (2 s and 150 MB) to compute nothing.
VALUE_OPS = frozenset((
    "normal_", "uniform_", "trunc_normal_", "exponential_", "log_normal_", "cauchy_",
    "geometric_", "random_", "bernoulli_", "fill_", "zero_", "copy_", "erfinv_", "clamp_",
    "clamp_min_", "clamp_max_", "mul_", "add_", "sub_", "div_", "addcmul_", "addcdiv_",
    "sqrt_", "abs_", "neg_", "exp_", "log_", "tanh_", "sigmoid_", "masked_fill_", "index_fill_",
))  # fmt: skip
#: Submodules, parameters and buffers a model may register while it is built.
MAX_PARTS = 20_000


def made_by(config: dict[str, Any]) -> str:
    plugin, version = config.get("plugin") or "?", config.get("plugin_version")
    return f"plugin {shown(plugin)}" + (f" version {shown(version)[1:-1]}" if version else "")


def misfit(folder: Path, config: dict[str, Any], why: str) -> GanzooError:
    """The one line for a folder whose config or weights the installed model cannot take."""
    return GanzooError(
        f"{folder} does not fit the installed {shown(config['model'])} model ({' '.join(why.split())})"
        f"; it was made by {made_by(config)}: install that version or export the model again"
    )


def spec_of(config: dict[str, Any]) -> DatasetSpec:
    """The ``DatasetSpec`` of a config whose spec ``fields.check_spec`` accepted."""
    spec = config["spec"]
    span = spec.get("value_range", [-1.0, 1.0])
    return DatasetSpec(
        spec["channels"],
        spec["height"],
        spec["width"],
        spec.get("num_classes"),
        (float(span[0]), float(span[1])),
    )


def hyperparameters(cls: type, config: dict[str, Any], folder: Path) -> Any:
    """The model's ``Config`` from the folder's values: its types, then its own ``validate``."""
    from .. import config as config_mod

    try:
        return config_mod.from_dict(cls.Config, config["hyperparameters"])
    except Exception as exc:  # noqa: BLE001 - untrusted values: any failure is the folder's
        raise misfit(folder, config, _said(exc)) from None


def check_fit(
    cls: type, hparams: Any, spec: DatasetSpec, header: dict[str, TensorInfo], where: Any
) -> None:
    """Build the model on the meta device; refuse shapes the header lacks and oversized extras.

    ``where`` is ``(folder, config)``, for the error line.
    """
    folder, config = where
    try:
        with torch.device("meta"), _NoValuesOnMeta(), _bounded_modules():
            model = cls(hparams, spec)
    except Exception as exc:  # noqa: BLE001 - the plugin's constructor ran on untrusted values
        raise misfit(folder, config, _said(exc)) from None
    inside = sampling_state(model)
    problems = [
        f"{k} is {header[k].shape}, the model has {tuple(v.shape)}"
        for k, v in inside.items()
        if k in header and header[k].shape != tuple(v.shape)
    ]
    problems += [f"missing {k}" for k in sorted(set(inside) - set(header))]
    problems += [f"unexpected {shown(k)}" for k in sorted(set(header) - set(inside))]
    if problems:
        raise misfit(folder, config, f"{folder / WEIGHTS}: {'; '.join(problems[:3])}")
    held = sum(_nbytes(t) for t in inside.values())
    outside = _model_bytes(model) - held
    if outside > OUTSIDE_FACTOR * held + OUTSIDE_SLACK:
        raise misfit(
            folder,
            config,
            f"its config builds {outside / 2**20:,.0f} MiB of networks and buffers that are not "
            f"in {WEIGHTS}, beside {held / 2**20:,.1f} MiB that are; at most "
            f"{OUTSIDE_FACTOR} times as much plus {OUTSIDE_SLACK // 2**20} MiB is loaded",
        )


def build(cls: type, hparams: Any, spec: DatasetSpec, where: Any) -> Any:
    """The model for real, once ``check_fit`` has passed on the same values."""
    folder, config = where
    try:
        with _bounded_modules():
            return cls(hparams, spec)
    except Exception as exc:  # noqa: BLE001 - as in check_fit
        raise misfit(folder, config, _said(exc)) from None


def _said(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, GanzooError) else f"{type(exc).__name__}: {exc}"
    if "meta" in text.lower() and not isinstance(exc, GanzooError):
        text += (
            "; ganzoo builds a folder's model on torch's meta device to check it before "
            "allocating, so a model's build() must not read tensor values"
        )
    return text[:500]


def _nbytes(tensor: torch.Tensor) -> int:
    return tensor.numel() * tensor.element_size()


def _model_bytes(model: torch.nn.Module) -> int:
    seen = {id(t): t for t in (*model.parameters(), *model.buffers())}
    return sum(_nbytes(t) for t in seen.values())


class _NoValuesOnMeta(TorchFunctionMode):
    """Skip ``VALUE_OPS`` on meta tensors: shapes are all the check needs."""

    def __torch_function__(
        self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None
    ) -> Any:
        kwargs = kwargs or {}
        target = args[0] if args else kwargs.get("tensor")  # torch.nn.init passes ``tensor=``
        if getattr(func, "__name__", "") in VALUE_OPS and _is_meta(target):
            return target
        return func(*args, **kwargs)


def _is_meta(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.is_meta


@contextlib.contextmanager
def _bounded_modules() -> Iterator[None]:
    """Refuse a model that registers more than ``MAX_PARTS`` submodules and tensors while built.

    A config asking for a hundred thousand layers is stopped as they are created,
    before their Python objects pile up (torch's global registration hooks).
    """
    from torch.nn.modules import module as hooks

    count = 0

    def counted(*args: Any) -> None:
        nonlocal count
        count += 1
        if count > MAX_PARTS:
            raise GanzooError(f"its config builds more than {MAX_PARTS:,} layers and tensors")

    handles = [
        hooks.register_module_module_registration_hook(counted),
        hooks.register_module_parameter_registration_hook(counted),
        hooks.register_module_buffer_registration_hook(counted),
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
