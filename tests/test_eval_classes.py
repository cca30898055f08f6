"""Intra-FID, the accuracy of samples and the class histogram, on real digits.

The generators here return real mnist5k digits, so the right answers are
known: a generator that draws the asked class scores high accuracy and a small
intra-FID, one that draws the next class scores near-zero accuracy and a large
intra-FID while its FID over all classes stays as small as the right one's,
which is the failure intra-FID exists to catch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from safetensors import safe_open
from torch import nn

import ganzoo
from ganzoo.eval.refcache import LABELS, Reference

FID, IFID = "frechet_inception_distance", "intra_fid"
ACC, TV = "classification_accuracy", "class_histogram_tv"


@dataclass
class NoConfig:
    pass


class RealDigits(ganzoo.Model):
    """Draws real train digits of class ``label + shift``: a conditional "generator" with known answers."""

    name = "real-digits"
    family = "test"
    description = "real mnist5k train digits, by class"
    Config = NoConfig
    conditional = True
    shift = 0

    def build(self) -> None:
        data = ganzoo.load_dataset("mnist5k", "train")
        self.anchor = nn.Parameter(torch.zeros(1))
        self.pool = [data.to_float(data.images[data.labels == c]) for c in range(10)]

    def sample(self, n, generator=None, labels=None):
        labels = self.sample_labels(n, labels)
        out = []
        for label in labels.tolist():
            pool = self.pool[(label + self.shift) % 10]
            out.append(pool[int(torch.randint(len(pool), (1,), generator=generator))])
        return torch.stack(out).to(self.device)


class OnlyOnes(RealDigits):
    """An unconditional "generator" that dropped every mode but the digit 1."""

    conditional = False

    def sample(self, n, generator=None):
        return super().sample(n, generator, torch.ones(n, dtype=torch.long))

    def sample_labels(self, n, labels=None):
        return labels


def digits(shift: int = 0, cls=RealDigits) -> ganzoo.Model:
    model = cls(NoConfig(), ganzoo.load_dataset("mnist5k", "train").spec)
    model.shift = shift
    return model


def test_intra_fid_of_the_real_test_split_against_itself_is_zero_in_every_class(tmp_path):
    """The test split, saved with its labels as ``ganzoo sample`` saves a conditional run's."""
    test = ganzoo.load_dataset("mnist5k", "test")
    path = tmp_path / "test-split.npz"
    np.savez(path, images=test.images.numpy(), labels=test.labels.numpy())
    result = ganzoo.evaluate(path, dataset="mnist5k", metrics="fid,ifid,classes")
    per_class = result.extra["per_class"]["intra_fid"]
    assert len(per_class) == 10 and max(per_class) < 1e-3
    assert result.metrics[IFID] < 1e-3 and result.metrics[FID] < 1e-3
    assert result.metrics[ACC] > 0.95  # lenet-mnist's accuracy on the test split
    assert result.protocol["generated"]["labels"] == "given with the images"
    reference = Reference("mnist5k", "test", "lenet-mnist", *_lenet_key())
    assert torch.equal(reference.labels(), test.labels.long())
    with safe_open(str(reference.path), framework="pt") as fh:  # cached beside the features
        stored = set(fh.keys())
    assert {LABELS, "features"} <= stored


def _lenet_key() -> tuple:
    """The cache key parts of lenet-mnist's shipped weights, as the evaluator computes them."""
    from ganzoo.eval.extractors import file_sha256, get_extractor

    info = get_extractor("lenet-mnist")
    return file_sha256(info.weights().path), info.resize, info.revision


def test_wrong_classes_score_near_zero_accuracy_and_a_large_intra_fid_but_a_small_fid():
    right = ganzoo.evaluate(digits(0), dataset="mnist5k", metrics="fid,ifid,classes")
    wrong = ganzoo.evaluate(digits(1), dataset="mnist5k", metrics="fid,ifid,classes")
    assert right.metrics[ACC] > 0.95 and wrong.metrics[ACC] < 0.05
    # Both draw the same real digits overall, so FID cannot tell them apart ...
    assert right.metrics[FID] < 1.0 and wrong.metrics[FID] < 1.0
    assert abs(right.metrics[FID] - wrong.metrics[FID]) < 0.5
    # ... but intra-FID compares a "3" with real 3s, and there the wrong one is far off.
    assert right.metrics[IFID] < 2.0 and wrong.metrics[IFID] > 10 * right.metrics[IFID]
    assert all(a < 0.05 for a in wrong.extra["per_class"][ACC])
    assert right.metrics[TV] < 0.05 and wrong.metrics[TV] < 0.05  # both balanced
    drawn = right.protocol["generated"]["sampling"]
    assert drawn["nfe"] == 1 and drawn["labels"].startswith("balanced")
    assert right.protocol["extractor"]["layers"]["ifid"] == "features"
    assert right.protocol["extractor"]["layers"]["cls"] == "logits"


def test_class_metrics_do_not_depend_on_the_batch_size():
    small = ganzoo.evaluate(digits(0), dataset="mnist5k", metrics="ifid,classes", batch_size=7)
    large = ganzoo.evaluate(digits(0), dataset="mnist5k", metrics="ifid,classes", batch_size=200)
    # Batched convolutions round differently in the last bits; nothing more may change.
    assert small.metrics == pytest.approx(large.metrics, rel=1e-6)
    for key, values in small.extra["per_class"].items():
        assert values == pytest.approx(large.extra["per_class"][key], rel=1e-6), key
    assert small.protocol_id == large.protocol_id


def test_balanced_labels_do_not_depend_on_the_sample_chunk():
    """300 images are drawn in chunks of 250: the second chunk continues the class cycle."""
    result = ganzoo.evaluate(digits(0), dataset="mnist5k", metrics="classes", num_samples=300)
    share = result.extra["per_class"]["class_histogram"]
    assert share == pytest.approx([0.1] * 10, abs=0.02)
    assert result.metrics[ACC] > 0.95


def test_a_dropped_mode_shows_in_the_histogram_and_leaves_intra_fid_absent_not_zero():
    result = ganzoo.evaluate(digits(0, OnlyOnes), dataset="mnist5k", metrics="fid,ifid,classes")
    assert result.metrics[TV] == pytest.approx(0.9, abs=0.02)  # nearly all mass on one class
    assert ACC not in result.metrics  # unconditional: nothing was asked for
    per_class = result.extra["per_class"]["intra_fid"]
    assert per_class[1] is not None and sum(v is None for v in per_class) >= 8
    assert IFID not in result.metrics
    assert result.protocol["generated"]["sampling"]["labels"] is None


def test_the_default_metrics_of_lenet_on_mnist5k_include_the_class_metrics(tmp_path):
    images = ganzoo.load_dataset("mnist5k", "train").images[::20]  # sorted by class: every 20th
    result = ganzoo.evaluate(images, dataset="mnist5k")
    assert {"ifid", "cls"} <= set(result.protocol["metrics"])
    assert {IFID, TV} <= set(result.metrics) and ACC not in result.metrics
    assert result.protocol["generated"]["sampling"] is None  # fixed images were not drawn
    assert json.loads(json.dumps(result.as_dict()))["per_class"]["class_histogram"]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"metrics": "classes", "extractor": "inception-v3-compat"}, "classifies mnist5k"),
        ({"metrics": "ifid", "dataset": "digits"}, "classifier of digits"),
    ],
)
def test_class_metrics_that_cannot_be_measured_are_one_line_errors(options, message):
    images = ganzoo.load_dataset("mnist5k", "train").images[:50]
    with pytest.raises(ganzoo.GanzooError, match=message) as caught:
        ganzoo.evaluate(images, **{"dataset": "mnist5k", **options})
    assert "\n" not in str(caught.value)


def test_sampling_settings_are_refused_for_fixed_images():
    images = ganzoo.load_dataset("mnist5k", "train").images[:50]
    with pytest.raises(ganzoo.GanzooError, match="fixed images"):
        ganzoo.evaluate(images, dataset="mnist5k", metrics="fid", sampling={"sample_steps": 5})


def test_intra_fid_matches_a_float64_scipy_reference_per_class(tmp_path):
    """Train digits with their labels against the test split, class by class, recomputed in
    float64 with scipy from the same lenet-mnist features: the Fréchet step is not ours."""
    from ganzoo_extractors.lenet import LeNetMnistExtractor
    from scipy import linalg

    train, test = (ganzoo.load_dataset("mnist5k", split) for split in ("train", "test"))
    keep = torch.randperm(len(train), generator=torch.Generator().manual_seed(2))[:600]
    images, labels = train.images[keep], train.labels[keep]  # the split is ordered by class
    path = tmp_path / "train-600.npz"
    np.savez(path, images=images.numpy(), labels=labels.numpy())
    ours = ganzoo.evaluate(path, dataset="mnist5k", metrics="ifid")

    net = LeNetMnistExtractor("lenet-mnist", ["features"])

    def features(uint8: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return net(uint8.expand(-1, 3, -1, -1))[0].double().numpy()

    generated, real = features(images), features(test.images)
    expected = []
    for c in range(10):
        a, b = generated[labels.numpy() == c], real[test.labels.numpy() == c]
        s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
        covmean = linalg.sqrtm(s1 @ s2).real
        diff = a.mean(0) - b.mean(0)
        expected.append(float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)))
    assert ours.extra["per_class"][IFID] == pytest.approx(expected, rel=1e-4)
    assert ours.metrics[IFID] == pytest.approx(sum(expected) / 10, rel=1e-4)
