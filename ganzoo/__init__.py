"""ganzoo: train, compare and share generative image models.

This is the whole public API; plugins (first- and third-party) import only
from here.  Names that need torch are loaded on first access, so importing
``ganzoo`` (and running ``ganzoo --help``) stays fast.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from .errors import ConfigError, DivergenceError, GanzooError, PluginError, warn
from .plugins.hookspecs import hookimpl
from .versions import __version__

_LAZY = {
    "Model": "ganzoo.model",
    "Phase": "ganzoo.model",
    "Batch": "ganzoo.model",
    "SpecError": "ganzoo.model",
    "noise": "ganzoo.model",
    "model_class": "ganzoo.model",
    "build_model": "ganzoo.model",
    "draw_samples": "ganzoo.sampling.draw",
    "DatasetSpec": "ganzoo.data.base",
    "ImageData": "ganzoo.data.base",
    "LoadContext": "ganzoo.data.base",
    "split_indices": "ganzoo.data.base",
    "to_uint8": "ganzoo.data.base",
    "cache_dir": "ganzoo.data.cache",
    "atomic_write": "ganzoo.files.write",
    "load_dataset": "ganzoo.data.registry",
    "read_image_folder": "ganzoo.data.files",
    "read_image_npz": "ganzoo.data.files",
    "Trainer": "ganzoo.train.trainer",
    "TrainOptions": "ganzoo.train.options",
    "load_run": "ganzoo.load.run",
    "from_pretrained": "ganzoo.load.pretrained",
    "export_run": "ganzoo.pretrained.export",
    "evaluate": "ganzoo.eval.api",
    "compare": "ganzoo.eval.compare",
    "paired": "ganzoo.eval.paired",
    "EvalRequest": "ganzoo.eval.request",
    "score_features": "ganzoo.eval.features",
    "FeatureScores": "ganzoo.eval.features",
    "FeatureExtractorInfo": "ganzoo.eval.extractors",
    "ResolvedWeights": "ganzoo.eval.extractors",
    "Tracker": "ganzoo.track.base",
    "TrackerRun": "ganzoo.track.base",
    "register_plugin": "ganzoo.plugins",
    "unregister_plugin": "ganzoo.plugins",
}

__all__ = [
    "ConfigError",
    "DivergenceError",
    "GanzooError",
    "PluginError",
    "__version__",
    "hookimpl",
    "warn",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")


if TYPE_CHECKING:  # pragma: no cover
    from .data.base import DatasetSpec, ImageData, LoadContext, split_indices, to_uint8
    from .data.cache import cache_dir
    from .data.files import read_image_folder, read_image_npz
    from .data.registry import load_dataset
    from .eval.api import evaluate
    from .eval.compare import compare
    from .eval.extractors import FeatureExtractorInfo, ResolvedWeights
    from .eval.features import FeatureScores, score_features
    from .eval.paired import paired
    from .eval.request import EvalRequest
    from .files.write import atomic_write
    from .load.pretrained import from_pretrained
    from .load.run import load_run
    from .model import (
        Batch,
        Model,
        Phase,
        SpecError,
        build_model,
        model_class,
        noise,
    )
    from .plugins import register_plugin, unregister_plugin
    from .pretrained.export import export_run
    from .sampling.draw import draw_samples
    from .track.base import Tracker, TrackerRun
    from .train.options import TrainOptions
    from .train.trainer import Trainer
