"""Metrics that look at classes: intra-FID, the accuracy of samples, the class histogram.

FID compares two whole distributions, so a conditional model that draws a
perfect "7" whenever it is asked for a "3" scores as well as a correct one.
Intra-FID (Miyato and Koyama 2018) is FID computed per class, generated
images of class c against real images of class c, averaged over the classes;
the accuracy of samples is the share of images asked to be class c that a
fixed classifier assigns to c.  Both need the classes of the generated images:
a conditional model's are the labels it was asked for; an unconditional
model's (and fixed samples') are what the classifier says, so intra-FID then
measures the quality within each class, and the class histogram (its total
variation distance to uniform) a cheap mode-dropping signal.

The classifier is registration metadata of the extractor
(``FeatureExtractorInfo.classifies``: dataset -> layer whose argmax is that
dataset's label), so the core names no extractor.  Per-class FIDs are
computed by torch-fidelity's own FID functions from the evaluation's
features; the real side's come from the cached features and the cached labels
of the reference (``refcache``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import GanzooError
from .extractors import FeatureExtractorInfo

#: Metric names of this module (beside torch-fidelity's isc, fid, kid, prc).
CLASS_METRICS = ("ifid", "cls")
#: A class with fewer generated or real images than this has no FID (a covariance needs two).
MIN_PER_CLASS = 2
#: Result keys of the class metrics, as they appear in ``EvalResult.metrics``.
KEYS = ("intra_fid", "classification_accuracy", "class_histogram_tv")


def classifier_layer(info: FeatureExtractorInfo, dataset: str) -> str | None:
    return dict(info.classifies).get(dataset)


def defaults(info: FeatureExtractorInfo, dataset: str) -> tuple[str, ...]:
    """The class metrics measured unless asked otherwise: those every source can have."""
    if classifier_layer(info, dataset) is None:
        return ()
    return ("ifid", "cls") if "fid" in info.layers else ("cls",)


def check(metrics: tuple[str, ...], info: FeatureExtractorInfo, name: str, dataset: str,
          conditional: bool) -> None:  # fmt: skip
    """Refuse class metrics these inputs cannot give, before anything is computed."""
    classifier = classifier_layer(info, dataset)
    if "cls" in metrics and classifier is None:
        raise GanzooError(
            f"the class metrics need a feature extractor that classifies {dataset}'s classes; "
            f"{name!r} does not (an extractor declares it with FeatureExtractorInfo.classifies)"
        )
    if "ifid" in metrics:
        if "fid" not in info.layers:
            raise GanzooError(f"intra-FID needs an FID layer; extractor {name!r} has none")
        if classifier is None and not conditional:
            raise GanzooError(
                f"intra-FID of images without labels needs a classifier of {dataset}'s classes "
                f"to assign them; extractor {name!r} is none (use a conditional model or another "
                "--extractor)"
            )


def layers(metrics: tuple[str, ...], info: FeatureExtractorInfo, dataset: str) -> dict[str, str]:
    """Metric -> feature layer it reads, as recorded in the protocol."""
    out = {}
    if "ifid" in metrics:
        out["ifid"] = info.layer("fid")
    if "cls" in metrics or ("ifid" in metrics and classifier_layer(info, dataset)):
        out["cls"] = classifier_layer(info, dataset)
    return out


@dataclass
class ClassScorer:
    """The class metrics of one evaluation; the real per-class statistics are made once."""

    metrics: tuple[str, ...]
    layers: dict[str, str]
    #: The classes a conditional model draws (else: as many as the classifier has logits).
    num_classes: int | None = None
    real: torch.Tensor | None = None  # real features of the FID layer (intra-FID only)
    real_labels: torch.Tensor | None = None
    _stats: dict[int, dict[str, Any]] = field(default_factory=dict)

    def score(
        self, features: dict[str, torch.Tensor], labels: torch.Tensor | None
    ) -> tuple[dict[str, float], dict[str, list[float | None]]]:
        """Numbers and per-class lists; ``labels``: the classes asked for, or None (unconditional)."""
        predicted = features[self.layers["cls"]].argmax(1) if "cls" in self.layers else None
        k = self._num_classes(features, labels)
        numbers: dict[str, float] = {}
        per_class: dict[str, list[float | None]] = {}
        if "cls" in self.metrics:
            share = torch.bincount(predicted, minlength=k)[:k].double() / max(len(predicted), 1)
            per_class["class_histogram"] = share.tolist()
            numbers["class_histogram_tv"] = float(0.5 * (share - 1.0 / k).abs().sum())
            if labels is not None:
                hits = (predicted == labels).double()
                numbers["classification_accuracy"] = float(hits.mean())
                per_class["classification_accuracy"] = [
                    float(hits[labels == c].mean()) if (labels == c).any() else None
                    for c in range(k)
                ]
        if "ifid" in self.metrics:
            classes = labels if labels is not None else predicted
            values = [self._fid(features[self.layers["ifid"]][classes == c], c) for c in range(k)]
            per_class["intra_fid"] = values
            if all(v is not None for v in values):  # a class without images has no FID
                numbers["intra_fid"] = sum(values) / k
        return numbers, per_class

    def _num_classes(self, features: dict[str, torch.Tensor], labels: torch.Tensor | None) -> int:
        if self.num_classes is not None:
            return self.num_classes
        return features[self.layers["cls"]].shape[1]  # classes.check made sure there is one

    def _fid(self, generated: torch.Tensor, c: int) -> float | None:
        from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

        if c not in self._stats:
            real = self.real[self.real_labels == c]
            self._stats[c] = fid_features_to_statistics(real) if len(real) >= MIN_PER_CLASS else {}
        if len(generated) < MIN_PER_CLASS or not self._stats[c]:
            return None
        stats = fid_features_to_statistics(generated)
        return float(fid_statistics_to_metric(stats, self._stats[c], verbose=False)[
            "frechet_inception_distance"
        ])  # fmt: skip


def mean_per_class(per_seed: list[dict[str, list[float | None]]]) -> dict[str, list[float | None]]:
    """Per-class lists averaged over seeds (None where any seed had none)."""
    out: dict[str, list[float | None]] = {}
    for key in per_seed[0]:
        columns = zip(*(p[key] for p in per_seed), strict=True)
        out[key] = [None if any(v is None for v in col) else sum(col) / len(col) for col in columns]
    return out
