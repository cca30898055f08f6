"""InceptionV3 extraction and whole evaluations at the size users run, against plain torch-fidelity.

Run: ``pytest tests/benchmarks/test_bench_extract.py --benchmark-only
--benchmark-columns=mean,min,rounds`` (single rounds; ~15 minutes on two CPU
cores).  Every row scores the same 1,000 mnist5k images (and, end to end,
against the same 1,000 others).  Under ``--benchmark-disable`` (``.ci/run``) the
same code runs once on 24 images, so the benchmarks keep working without
costing CI its time.  Ratios go to docs/performance.md.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

import ganzoo

MEASURED, SMOKE = 1000, 24


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")


@pytest.fixture(scope="module")
def size(request) -> int:
    return SMOKE if request.config.getoption("benchmark_disable") else MEASURED


@pytest.fixture(scope="module")
def images(size) -> tuple[torch.Tensor, torch.Tensor]:
    """Two disjoint random sets of ``size`` mnist5k images (uint8 N x 1 x 28 x 28)."""
    data = ganzoo.load_dataset("mnist5k", "all").images
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    return data[order[:size]], data[order[size : 2 * size]]


@pytest.fixture(scope="module")
def weights() -> str:
    from ganzoo_extractors.inception import resolve_weights

    return resolve_weights().path


def extract(net: torch.nn.Module, images: torch.Tensor, batch: int) -> torch.Tensor:
    """What torch-fidelity does per batch: gray to 3 channels, forward, keep pool3 features."""
    out = []
    with torch.no_grad():
        for part in images.split(batch):
            out.append(net(part.expand(-1, 3, -1, -1).contiguous())[0])
    return torch.cat(out)


@pytest.mark.slow
@pytest.mark.benchmark(group="inception-extraction")
@pytest.mark.parametrize("batch", [64, 8], ids=["batch64-torch-fidelity-default", "batch8"])
def test_extract_plain_torch_fidelity(benchmark, images, weights, batch):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    net = FeatureExtractorInceptionV3("plain", ["2048"], feature_extractor_weights_path=weights)
    benchmark.pedantic(extract, args=(net, images[0], batch), rounds=1)


@pytest.mark.slow
@pytest.mark.benchmark(group="inception-extraction")
def test_extract_ganzoo(benchmark, images, weights):
    from ganzoo_extractors.inception_fast import FastInceptionV3

    net = FastInceptionV3("fast", ["2048"], feature_extractor_weights_path=weights)
    from ganzoo.eval.extractors import get_extractor

    batch = get_extractor("inception-v3-compat").batch_size("cpu")
    benchmark.pedantic(extract, args=(net, images[0], batch), rounds=1)


@pytest.fixture(scope="module")
def reference(images, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("bench") / "reference.npz"
    np.savez(path, images=images[1].numpy())
    return str(path)


def _evaluate(generated: torch.Tensor, reference: str):
    return ganzoo.evaluate(
        generated,
        dataset=f"npz:{reference}",
        split="all",
        extractor="inception-v3-compat",
        metrics="fid,kid",
    )


@pytest.mark.slow
@pytest.mark.benchmark(group="inception-end-to-end")
def test_end_to_end_ganzoo_cold(benchmark, images, reference):
    """FID+KID with bootstrap intervals, the reference encoded from scratch."""

    def clear() -> None:
        shutil.rmtree(ganzoo.cache_dir("fidelity"), ignore_errors=True)

    benchmark.pedantic(_evaluate, args=(images[0], reference), setup=clear, rounds=1)


@pytest.mark.slow
@pytest.mark.benchmark(group="inception-end-to-end")
def test_end_to_end_ganzoo_cached(benchmark, images, reference):
    _evaluate(images[0], reference)  # fills the reference cache
    benchmark.pedantic(_evaluate, args=(images[0], reference), rounds=1)


@pytest.mark.slow
@pytest.mark.benchmark(group="inception-end-to-end")
def test_end_to_end_torch_fidelity_direct(benchmark, images, weights):
    """torch_fidelity.calculate_metrics on the same two sets: FID+KID, no intervals."""
    import torch_fidelity
    from torch.utils.data import TensorDataset

    class Gray3(TensorDataset):
        def __getitem__(self, i):
            return self.tensors[0][i].expand(3, -1, -1)

    size = len(images[0])
    benchmark.pedantic(
        torch_fidelity.calculate_metrics,
        kwargs=dict(
            input1=Gray3(images[0]),
            input2=Gray3(images[1]),
            fid=True,
            kid=True,
            kid_subset_size=min(1000, size),
            feature_extractor="inception-v3-compat",
            feature_extractor_weights_path=weights,
            cuda=False,
            verbose=False,
        ),
        rounds=1,
    )
