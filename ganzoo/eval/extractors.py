"""What a feature extractor is to ganzoo, how one is found, and its torch-fidelity registration.

Plugins describe extractors with ``FeatureExtractorInfo`` through the
``register_feature_extractors`` hook.  The description is cheap to build: the
torch-fidelity class and the weights resolver may be given as
``"module:attribute"`` strings, so ``ganzoo plugins`` never imports torch.
The extractor (with its weights hash and layers) is part of every protocol:
numbers from different extractors are never comparable.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import GanzooError

METRICS = ("isc", "fid", "kid", "prc")
#: Images per extraction batch on a device type the extractor names no batch size for.
DEFAULT_BATCH_SIZE = 64
#: Metrics computed on another metric's layer (never part of the default set).
DERIVED = {"fid_inf": "fid", "dc": "prc", "cmmd": "fid", "mem": "fid"}


@dataclass(frozen=True)
class ResolvedWeights:
    """The weights file an extractor will load and where it came from.

    The evaluator never passes ``path`` itself to the extractor: it reads the
    file once, checks it (``ganzoo.eval.safeload``) and passes a private copy;
    ``sha256`` is then the hash of exactly those bytes.
    """

    path: str | None
    sha256: str | None
    source: str
    #: metric -> why these weights cannot serve it (e.g. no classifier layer for IS).
    unsupported: Mapping[str, str] = field(default_factory=dict)
    #: The sha256 the file must have, held in the code (a known file), else None.
    expected_sha256: str | None = None
    #: "state_dict" (loadable with weights_only=True) or "torchscript" (needs expected_sha256).
    format: str = "state_dict"


@dataclass(frozen=True)
class FeatureExtractorInfo:
    """A feature extractor as registered by a plugin.

    ``extractor_class`` is a ``torch_fidelity.FeatureExtractorBase`` subclass
    (or ``"module:Class"``); torch-fidelity builds it as
    ``cls(name, features_list, feature_extractor_weights_path=..., ...)``.
    ``resolve_weights(user_path)`` (or ``"module:function"``) returns a
    ``ResolvedWeights`` or raises ``GanzooError`` listing how to provide them.
    """

    extractor_class: type | str
    #: metric (isc, fid, kid, prc) -> feature layer name of the extractor.
    layers: Mapping[str, str]
    resolve_weights: Callable[[str | None], ResolvedWeights] | str
    #: The sha256 the default weights file must have (shipped with the plugin), else None.
    weights_sha256: str | None = None
    #: How images are brought to the network's input size, as recorded in the protocol.
    resize: str = ""
    description: str = ""
    #: Bump when the extractor's outputs change without a change of weights (cache key, protocol).
    revision: int = 1
    #: Image shapes (C, H, W) this extractor is the default for, e.g. ``((1, 28, 28),)``.
    default_for_shapes: tuple[tuple[int, int, int], ...] = ()
    #: The default for every shape that no extractor claims in ``default_for_shapes``.
    default_otherwise: bool = False
    #: Dataset name -> the layer whose argmax is that dataset's class label (the extractor is
    #: a classifier of its classes): what intra-FID and the accuracy of samples need.
    classifies: Mapping[str, str] = field(default_factory=dict)
    #: Device type ("cpu", "cuda") -> the batch size that extracts fastest there (measured): a
    #: CPU network whose activations outgrow the cache and malloc's reuse wants small batches,
    #: a GPU large ones.  Used unless the user gives --batch-size; results do not depend on it.
    batch_sizes: Mapping[str, int] = field(default_factory=dict)

    def load_class(self) -> type:
        return _resolve_ref(self.extractor_class)

    def batch_size(self, device_type: str) -> int:
        return int(self.batch_sizes.get(device_type, DEFAULT_BATCH_SIZE))

    def weights(self, user_path: str | None = None) -> ResolvedWeights:
        """The resolver's answer; the plugin's fixed hash applies unless the user chose a file."""
        resolved = _resolve_ref(self.resolve_weights)(user_path)
        if user_path is None and resolved.expected_sha256 is None and self.weights_sha256:
            resolved = replace(resolved, expected_sha256=self.weights_sha256)
        return resolved

    def supported_metrics(self, weights: ResolvedWeights) -> tuple[str, ...]:
        """What these weights can measure: metrics with a layer, less those the weights rule out."""
        return tuple(m for m in METRICS if m in self.layers and m not in weights.unsupported)

    def layer(self, metric: str) -> str:
        metric = DERIVED.get(metric, metric)
        if metric not in self.layers:
            raise GanzooError(f"this feature extractor provides no layer for metric {metric!r}")
        return self.layers[metric]


def _resolve_ref(ref: Any) -> Any:
    if not isinstance(ref, str):
        return ref
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def get_extractor(name: str) -> FeatureExtractorInfo:
    """The registered extractor ``name`` (an unknown name gets close-match suggestions)."""
    from .. import plugins

    info = plugins.lookup("register_feature_extractors", name, "feature extractor").obj
    if not isinstance(info, FeatureExtractorInfo):
        raise GanzooError(
            f"feature extractor {name!r} was registered with a {type(info).__name__}, "
            "not a ganzoo.FeatureExtractorInfo; fix the plugin that registers it"
        )
    return info


def default_extractor(shape: tuple[int, int, int] | None) -> str:
    """The extractor registered as the default for ``shape`` (C, H, W), else the general default.

    Plugins declare it (``default_for_shapes``, ``default_otherwise``), so a
    third-party extractor takes part exactly like a first-party one.
    """
    from .. import plugins

    entries = {
        name: reg.obj
        for name, reg in plugins.registry("register_feature_extractors").items()
        if isinstance(reg.obj, FeatureExtractorInfo) and not reg.conflicts
    }
    shape = tuple(shape) if shape is not None else None
    for candidates, what in (
        (sorted(n for n, i in entries.items() if shape in i.default_for_shapes), "for that shape"),
        (sorted(n for n, i in entries.items() if i.default_otherwise), "otherwise"),
    ):
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            raise GanzooError(
                f"feature extractors {', '.join(candidates)} are all registered as the default "
                f"{what}; choose one with --extractor"
            )
    shown = "x".join(map(str, shape)) if shape else "these"
    raise GanzooError(
        f"no feature extractor is the default for {shown} images; choose one with --extractor "
        f"(registered: {', '.join(sorted(entries)) or 'none'})"
    )


def torch_fidelity_name(name: str, info: FeatureExtractorInfo) -> str:
    """Register the extractor's class with torch-fidelity once; the name to pass it.

    torch-fidelity's registry is global and refuses a second registration, and
    it already holds its own classes (``inception-v3-compat`` among them): the
    same class under the same name is reused, a different one gets a
    ``ganzoo-`` prefix.
    """
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

    cls = info.load_class()
    for candidate in (name, f"ganzoo-{name}"):
        existing = FEATURE_EXTRACTORS_REGISTRY.get(candidate)
        if existing is cls:
            return candidate
        if existing is None:
            register_feature_extractor(candidate, cls)
            return candidate
    raise GanzooError(
        f"torch-fidelity already has different extractors named {name!r} and 'ganzoo-{name}'; "
        "rename the ganzoo feature extractor"
    )


_SHA_MEMO: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, remembered per (path, size, mtime) so a 90 MB file is hashed once."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_MEMO:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _SHA_MEMO[key] = digest.hexdigest()
    return _SHA_MEMO[key]
