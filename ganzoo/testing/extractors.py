"""Conformance of a feature extractor, built exactly as the evaluator builds it.

The extractor is registered with torch-fidelity under the evaluator's name,
gets the evaluator's private, checked copy of its weights, and sees what
torch-fidelity feeds it: real uint8 ``B x 3 x H x W`` images, at MNIST's size
and at a colour size it must resize.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from ..data.base import DatasetSpec
from ..eval.extractors import METRICS, get_extractor, torch_fidelity_name
from ..eval.safeload import private_copy
from .data import one_thread, tiny_data
from .imports import imports_no_torch, plugin_of
from .report import Report, fail


class ExtractorChecks:
    def __init__(self, name: str, weights: str | None = None) -> None:
        self.name, self.user_weights = name, weights
        self.info: Any = None
        self.features: list[str] = []
        self.outputs: list[tuple[torch.Tensor, tuple[torch.Tensor, ...]]] = []

    def registered(self) -> str:
        self.info = get_extractor(self.name)
        return self.info.description or "registered"

    def extractor_class(self) -> str:
        from torch_fidelity.feature_extractor_base import FeatureExtractorBase

        cls = self.info.load_class()
        if not (isinstance(cls, type) and issubclass(cls, FeatureExtractorBase)):
            fail(f"extractor_class {cls!r} is not a torch_fidelity.FeatureExtractorBase subclass")
        unknown = sorted(set(self.info.layers) - set(METRICS))
        if unknown:
            fail(f"layers has unknown metrics {unknown}; use {', '.join(METRICS)}")
        provided = set(cls.get_provided_features_list())
        missing = sorted(set(self.info.layers.values()) - provided)
        if missing:
            fail(f"layers {missing} are not among {cls.__name__}.get_provided_features_list()")
        return f"{cls.__name__}; layers {dict(self.info.layers)}"

    def weights(self) -> str:
        resolved = self.info.weights(self.user_weights)
        with private_copy(resolved, self.name) as checked:  # the evaluator's safety check
            digest = checked.sha256
        supported = [m for m in self.info.layers if m not in resolved.unsupported]
        if not supported:
            fail("these weights support none of the extractor's metrics")
        self.features = sorted({self.info.layers[m] for m in supported})
        file = f"{resolved.path} (sha256 {digest[:12]})" if resolved.path else "no weights file"
        return f"{file} from {resolved.source}"

    @contextlib.contextmanager
    def _extractor(self):
        from torch_fidelity.utils import create_feature_extractor

        registered = torch_fidelity_name(self.name, self.info)
        with private_copy(self.info.weights(self.user_weights), self.name) as checked:
            yield create_feature_extractor(
                registered, self.features, cuda=False,
                feature_extractor_weights_path=checked.path, verbose=False,
            )  # fmt: skip

    def features_(self) -> str:
        gray = tiny_data(n=8, split="test").images.repeat(1, 3, 1, 1)
        colour = tiny_data(DatasetSpec(3, 32, 32), n=8, split="test").images
        colour[:, 1] //= 2  # a real colour image, not gray
        shapes = []
        with self._extractor() as extractor, torch.no_grad():
            for images in (gray, colour):
                out = extractor(images)
                if not isinstance(out, tuple) or len(out) != len(self.features):
                    fail(f"forward() must return a tuple of {len(self.features)} tensors (one per "
                         f"requested feature {self.features}), got {type(out).__name__}")  # fmt: skip
                for feature, value in zip(self.features, out, strict=True):
                    if value.dim() != 2 or value.shape[0] != len(images):
                        fail(f"feature {feature!r} has shape {tuple(value.shape)}; expected "
                             f"{len(images)} x D for {len(images)} images")  # fmt: skip
                    if not torch.isfinite(value).all():
                        fail(f"feature {feature!r} is not finite for real images")
                self.outputs.append((images, out))
                shapes.append("x".join(map(str, images.shape[1:])))
        dims = ", ".join(f"{f} {v.shape[1]}-d" for f, v in zip(self.features, out, strict=True))
        return f"{dims} for uint8 {' and '.join(shapes)} input"

    def determinism(self) -> str:
        with self._extractor() as extractor, torch.no_grad():
            for images, expected in self.outputs:
                again = extractor(images)
                half = extractor(images[:4])
                for feature, a, b, c in zip(self.features, expected, again, half, strict=True):
                    if not torch.equal(a, b):
                        fail(f"feature {feature!r} differs between two passes over the same images")
                    if not torch.allclose(a[:4], c, rtol=1e-4, atol=1e-5):
                        fail(f"feature {feature!r} of an image depends on the rest of its batch")
        return "same images, same features, whatever the batch"

    def lazy_import(self) -> str:
        return imports_no_torch(*plugin_of("register_feature_extractors", self.info))


def extractor_report(name: str, weights: str | None = None) -> Report:
    checks = ExtractorChecks(name, weights)
    report = Report(f"feature extractor {name!r}")
    with one_thread():
        report.run("registered", checks.registered)
        report.run("class", checks.extractor_class, needs=("registered",))
        report.run("weights", checks.weights, needs=("registered",))
        report.run("features", checks.features_, needs=("class", "weights"))
        report.run("deterministic", checks.determinism, needs=("features",))
        report.run("import-without-torch", checks.lazy_import, needs=("registered",))
    return report
