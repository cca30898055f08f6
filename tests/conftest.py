"""Test isolation: only ganzoo's own plugins, a private cache, no network, CPU unless marked cuda."""

import atexit
import os
import shutil
import tempfile

# Set before ganzoo loads any plugin (it reads these lazily; ganzoo's pytest plugin imports
# ganzoo earlier but loads none): installed third-party plugins never leak into tests.
os.environ["GANZOO_LOAD_PLUGINS"] = "ganzoo"
for _name in ("GANZOO_STRICT_PLUGINS", "GANZOO_PLUGINS_DIR", "GANZOO_DEBUG"):
    os.environ.pop(_name, None)  # a developer's plugins folder or debug output stays out of tests
# One cache per test session, shared by its tests (decoding mnist5k once is enough).
if "GANZOO_CACHE" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="ganzoo-test-cache-")
    os.environ["GANZOO_CACHE"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)  # sessions leave no cache behind
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
