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


# A model for command-line plumbing tests, where what the model is does not matter: one
# linear layer from noise to pixels, one phase pulling samples towards the batch.  It trains,
# checkpoints, resumes, samples and is scored through the paths every model takes, in a
# fraction of a GAN's time, and no change to a first-party model can break a test of flags,
# files or messages.  Module-scoped, so a module's shared run can be trained with it.
PLUMBING_MODEL = "plumbing-tiny"


def _plumbing_model_class():
    from dataclasses import dataclass

    import torch

    import ganzoo

    @dataclass
    class TinyConfig:
        z_dim: int = 8
        lr: float = 1e-2

    class TinyModel(ganzoo.Model):
        name = PLUMBING_MODEL
        family = "test"
        description = "One linear layer: for tests of the command line's plumbing."
        Config = TinyConfig
        default_batch_size = 16
        ema_modules = ("generator",)

        def build(self) -> None:
            self.generator = torch.nn.Linear(self.config.z_dim, self.spec.dims)

        def configure_optimizers(self) -> dict:
            return {"g": torch.optim.Adam(self.generator.parameters(), self.config.lr)}

        def phases(self) -> list:
            return [ganzoo.Phase("g", "g", self._loss)]

        def _loss(self, batch):
            return (self._draw(batch.size) - batch.x).square().mean(), {}

        def _draw(self, n, generator=None):
            z = ganzoo.noise(n, self.config.z_dim, self.device, generator)
            low, high = self.spec.value_range
            x = (torch.tanh(self.generator(z)) + 1) / 2 * (high - low) + low
            return x.view(n, self.spec.channels, self.spec.height, self.spec.width)

        @torch.no_grad()
        def sample(self, n, generator=None):
            return self._draw(n, generator)

    return TinyModel


@pytest.fixture(scope="module")
def plumbing_model():
    """The tiny model's registry name, registered as plugin ``plumbing`` for the module."""
    import ganzoo
    from ganzoo import plugins

    model = _plumbing_model_class()

    class Plumbing:
        @ganzoo.hookimpl
        def register_models(self, register):
            register(model)

    plugins.register_plugin(Plumbing(), "plumbing")
    try:
        yield PLUMBING_MODEL
    finally:
        plugins.unregister_plugin("plumbing")
