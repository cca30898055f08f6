"""What one evaluation compares: the inputs, their counts, and the protocol recorded with them.

``evaluate`` fills a ``Plan`` in two steps (what is compared, then how many
images of each side) so that every count is checked before any feature is
computed, and builds the protocol from the same object afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..errors import GanzooError
from ..sampling import draw as sampling
from ..versions import versions
from . import classes, copying, fidelity, sources
from .extractors import FeatureExtractorInfo, ResolvedWeights
from .protocol import VERSION
from .refcache import Reference


@dataclass
class Plan:
    source: sources.Source
    dataset: str
    split: str
    extractor: str
    info: FeatureExtractorInfo
    weights: ResolvedWeights
    metrics: tuple[str, ...]
    reference: Reference | None = None
    world: Any = None  # the processes sharing the work (None: this one alone)
    n_gen: int = 0
    n_real: int | None = None
    num_real: int | None = None
    kid_subset: int | None = None
    #: The training and held-out sides of --metrics memorization (None unless measured).
    copying: copying.CopyScorer | None = None

    def count(
        self,
        num_samples: int | None,
        num_real: int | None,
        kid_subset_size: int | None,
        data_root: Any,
        train_dataset: str | None = None,
    ) -> None:
        """Set the reference and both image counts, refusing any the inputs cannot supply."""
        self.num_real = num_real
        if any(m in self.metrics for m in (*fidelity.BINARY, "ifid")):
            self._set_reference(num_real, data_root)
        if "mem" in self.metrics:
            self._set_training(train_dataset, data_root)
        if "ifid" in self.metrics and self.reference.labels() is None:
            raise GanzooError(
                f"intra-FID compares images class by class, but {self.dataset}:{self.split} has "
                "no labels; leave out ifid or use a labelled reference (--dataset)"
            )
        source = self.source
        if source.images is not None:
            available = source.images.shape[0]
            if num_samples is not None and num_samples > available:
                raise GanzooError(
                    f"--num-samples {num_samples} but {source.description} holds only "
                    f"{available} images"
                )
            self.n_gen = num_samples or available
        else:
            self.n_gen = num_samples or self.n_real or 1000
        self._check_metric_sizes(kid_subset_size)

    def _set_reference(self, num_real: int | None, data_root: Any) -> None:
        w = self.weights
        self.reference = Reference(
            self.dataset,
            self.split,
            self.extractor,
            w.sha256,
            self.info.resize,
            self.info.revision,
            num_real,
            data_root,
            self.world,
        )
        ref_shape = self.reference.shape()
        self.n_real = self.reference.num_images()
        if num_real is not None and self.n_real < num_real:
            raise GanzooError(
                f"--num-real {num_real} but {self.dataset}:{self.split} has only {self.n_real} "
                "images; ask for fewer or use another split (--split all)"
            )
        source = self.source
        if source.images is not None:
            source.images = sources.match_reference(source.images, ref_shape, source.description)
        elif tuple(ref_shape) != tuple(source.shape()):
            raise GanzooError(
                f"the model makes {'x'.join(map(str, source.shape()))} images but "
                f"{self.dataset!r} has {'x'.join(map(str, ref_shape))}; evaluate against the "
                "dataset it was trained on"
            )

    def _set_training(self, train_dataset: str | None, data_root: Any) -> None:
        dataset, split = copying.training_split(
            train_dataset, self.source, (self.dataset, self.split)
        )
        w, ref = self.weights, self.reference
        training = Reference(
            dataset, split, self.extractor, w.sha256, self.info.resize, self.info.revision,
            None, data_root, self.world,
        )  # fmt: skip
        if tuple(training.shape()) != tuple(ref.shape()):
            raise GanzooError(
                f"the training images {dataset}:{split} are "
                f"{'x'.join(map(str, training.shape()))}, the reference's "
                f"{'x'.join(map(str, ref.shape()))}; --train-dataset must be the model's data"
            )
        self.copying = copying.CopyScorer(training, ref, self.info.layer("mem"))

    def _check_metric_sizes(self, kid_subset_size: int | None) -> None:
        if "kid" in self.metrics:
            self.kid_subset = fidelity.kid_subset_size(kid_subset_size, self.n_gen, self.n_real)
        fidelity.check_sizes(self.metrics, self.n_gen, self.n_real)

    def class_layers(self) -> dict[str, str]:
        return classes.layers(self.metrics, self.info, self.dataset)

    def class_scorer(self, encode: Any) -> classes.ClassScorer | None:
        """The class metrics' scorer (None without class metrics), the real side read once."""
        if not any(m in self.metrics for m in classes.CLASS_METRICS):
            return None
        layers, source = self.class_layers(), self.source
        scorer = classes.ClassScorer(self.metrics, layers)
        if source.has_model and source.model.conditional:
            scorer.num_classes = source.spec.num_classes
        if "ifid" in self.metrics:
            scorer.real = self.reference.features((layers["ifid"],), encode)[layers["ifid"]]
            scorer.real_labels = self.reference.labels()
        if "cls" not in layers and scorer.num_classes is None:  # labelled files, no classifier
            scorer.num_classes = int(max(scorer.real_labels.max(), source.labels.max())) + 1
        return scorer

    def protocol(
        self, seed_list: list[int], batch_size: int, device: torch.device
    ) -> dict[str, Any]:
        """Everything that changes a number, as plain JSON (see docs/evaluation.md)."""
        chosen, source = self.metrics, self.source
        layers = {m: self.info.layer(m) for m in chosen if m not in classes.CLASS_METRICS}
        return {
            "version": VERSION,
            "reference": None
            if self.reference is None
            else {
                "dataset": self.dataset,
                "split": self.split,
                "num_images": self.n_real,
                "subset_seed": 0 if self.num_real else None,
            },
            "generated": {
                "source": source.kind,
                "num_images": self.n_gen,
                "seeds": seed_list,
                "sample_chunk": sources.SAMPLE_CHUNK if source.has_model else None,
                "seeding": sources.SEEDING if source.has_model else None,
                "sampling": sampling.record(source.model) if source.has_model else None,
                "labels": "given with the images" if source.labels is not None else None,
            },
            "metrics": list(chosen),
            "extractor": {
                "name": self.extractor,
                "layers": {**layers, **self.class_layers()},
                "weights_sha256": self.weights.sha256,
                "weights_source": self.weights.source,
                "resize": self.info.resize,
                "revision": self.info.revision,
            },
            "settings": {
                **fidelity.settings(chosen, self.kid_subset),
                "bootstrap": _bootstrap_settings(chosen),
                "fid_inf": _fid_inf_settings(chosen, self.n_gen),
                "classes": {"min_per_class": classes.MIN_PER_CLASS}
                if any(m in chosen for m in classes.CLASS_METRICS)
                else None,
            },
            "batch_size": batch_size,
            "device": device.type,
            "launch": self.world.describe() if self.world is not None else None,
            "checkpoint": _checkpoint(source),
            "versions": versions(),
            # Only when measured: every protocol without memorization keeps its id.
            **({"training": self.copying.protocol(self.n_gen)} if self.copying else {}),
        }


def _bootstrap_settings(chosen: tuple[str, ...]) -> dict[str, Any] | None:
    from .replicates import settings

    return settings() if set(chosen) & set(fidelity.BOOTSTRAPPED) else None


def _fid_inf_settings(chosen: tuple[str, ...], n_gen: int) -> dict[str, Any] | None:
    from .replicates import SEED
    from .uncertainty import FID_INF_DRAWS, FID_INF_FRACTIONS

    if "fid_inf" not in chosen:
        return None
    sizes = sorted({max(3, round(f * n_gen)) for f in FID_INF_FRACTIONS})
    return {"sizes": sizes, "draws": FID_INF_DRAWS, "seed": SEED}


def _checkpoint(source: Any) -> dict[str, Any] | None:
    """The scored checkpoint: step, EMA, and for ``--checkpoint best`` how it was chosen."""
    if source.step is None:
        return None
    chosen = {"selected": source.selected} if source.selected else {}
    return {"step": source.step, "ema": source.ema, **chosen}
