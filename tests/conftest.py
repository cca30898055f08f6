"""Test isolation: only ganzoo's own plugins, a private cache, no network, CPU unless marked cuda."""

import os
import tempfile

# Set before ganzoo is imported anywhere: installed third-party plugins never leak into tests.
os.environ["GANZOO_LOAD_PLUGINS"] = "ganzoo"
os.environ.pop("GANZOO_STRICT_PLUGINS", None)
# One cache per test session, shared by its tests (decoding mnist5k once is enough).
os.environ.setdefault("GANZOO_CACHE", tempfile.mkdtemp(prefix="ganzoo-test-cache-"))
os.environ.setdefault("TORCH_HOME", os.path.join(os.environ["GANZOO_CACHE"], "torch-home"))

import pytest  # noqa: E402


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
