"""No weights file handed to a feature extractor can run code, whichever route it arrives by.

Each test crafts a pickle whose unpickling creates a marker file, shows that the
payload is live (an unsafe ``torch.load`` does create the marker), then sends it
through one route and asserts a one-line error and no marker.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from ganzoo_extractors import inception, inception_convert

import ganzoo
from ganzoo import FeatureExtractorInfo, ResolvedWeights, plugins
from ganzoo.cli import cli


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def craft(path: Path, marker: Path) -> Path:
    """A torch file that runs ``touch marker`` when loaded without weights_only."""
    torch.save({"fc.weight": torch.zeros(2), "payload": _Payload(marker)}, path)
    torch.load(path, weights_only=False)  # the payload is live ...
    assert marker.exists()
    marker.unlink()  # ... and the marker starts absent
    return path


@pytest.fixture
def evil(tmp_path):
    marker = tmp_path / "PWNED"
    return craft(tmp_path / "evil.pth", marker), marker


@pytest.fixture
def samples(tmp_path):
    images = ganzoo.load_dataset("mnist5k", "test").images[:20]
    path = tmp_path / "samples.npz"
    np.savez(path, images=images.numpy())
    return path


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    monkeypatch.delenv("GANZOO_INCEPTION_WEIGHTS", raising=False)


def score(samples: Path, *extra: str):
    args = ["eval", str(samples), "--dataset", "mnist5k", "--extractor", "inception-v3-compat"]
    return CliRunner().invoke(cli, [*args, "--metrics", "fid", *extra])


def assert_refused(result, marker: Path, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert not marker.exists()


def test_explicit_flag(evil, samples):
    path, marker = evil
    result = score(samples, "--inception-weights", str(path))
    assert_refused(result, marker, "evil.pth", "could run code")


def test_environment_variable(evil, samples, monkeypatch):
    path, marker = evil
    monkeypatch.setenv("GANZOO_INCEPTION_WEIGHTS", str(path))
    assert_refused(score(samples), marker, "evil.pth", "could run code")


def test_torch_hub_cache(evil, samples, monkeypatch, tmp_path):
    path, marker = evil
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    hub = inception.hub_weights_path()
    hub.parent.mkdir(parents=True)
    hub.write_bytes(path.read_bytes())
    assert_refused(score(samples), marker, inception.WEIGHTS_FILE, "not the expected", "6726825d")


@pytest.mark.slow
def test_converted_fallback_in_the_cache(evil, samples, monkeypatch, tmp_path):
    """The cached conversion replaced, with the sidecar hash an older ganzoo trusted rewritten."""
    path, marker = evil
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    cached, _ = inception_convert.fallback_weights()  # a genuine conversion first
    cached.write_bytes(path.read_bytes())
    sidecar = cached.with_name(cached.name + ".sha256")
    sidecar.write_text(hashlib.sha256(cached.read_bytes()).hexdigest())
    assert_refused(score(samples), marker, cached.name, "could run code", "delete it")


def test_a_genuine_conversion_is_used_and_a_stale_one_is_redone(monkeypatch, tmp_path):
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    cached, sha = inception_convert.fallback_weights()
    assert sha == hashlib.sha256(cached.read_bytes()).hexdigest()
    state = torch.load(cached, weights_only=True)
    state["fc.bias"] = torch.zeros_like(state["fc.bias"])  # plain tensors, but not ours
    torch.save(state, cached)
    again, sha_again = inception_convert.fallback_weights()
    assert again == cached and sha_again == sha


class _NeverBuilt(torch.nn.Module):
    """Stands in for a third-party torch-fidelity extractor; refused weights never reach it."""

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        raise RuntimeError("not reached: the weights are refused first")


def _third_party(path: str):
    def resolve(user_path):
        return ResolvedWeights(path, None, "third party")

    class Plugin:
        @ganzoo.hookimpl
        def register_feature_extractors(self, register):
            register(
                "third-party-net",
                FeatureExtractorInfo(_NeverBuilt, {"fid": "x"}, resolve),
            )

    return Plugin()


def test_a_third_party_extractor_is_protected_too(evil, samples, monkeypatch):
    path, marker = evil
    plugin = _third_party(str(path))
    plugins.register_plugin(plugin, "third-party-weights")
    try:
        with pytest.raises(ganzoo.GanzooError, match="could run code"):
            ganzoo.evaluate(samples, dataset="mnist5k", extractor="third-party-net", metrics="fid")
    finally:
        plugins.unregister_plugin("third-party-weights")
    assert not marker.exists()


def test_the_extractor_loads_a_private_copy_of_exactly_the_checked_bytes(tmp_path):
    from ganzoo.eval.safeload import private_copy

    original = tmp_path / "w.pt"
    torch.save({"w": torch.arange(3.0)}, original)
    resolved = ResolvedWeights(str(original), None, "test")
    with private_copy(resolved, "x") as checked:
        assert checked.path != str(original)
        assert Path(checked.path).read_bytes() == original.read_bytes()
        assert checked.sha256 == hashlib.sha256(original.read_bytes()).hexdigest()
        assert (os.stat(Path(checked.path).parent).st_mode & 0o077) == 0  # private directory
        original.write_bytes(b"swapped after the check")  # cannot reach the extractor
        assert torch.load(checked.path, weights_only=True)["w"].tolist() == [0.0, 1.0, 2.0]
    assert not Path(checked.path).exists()


def test_shipped_lenet_weights_are_checked_against_the_hash_in_code(tmp_path, monkeypatch):
    import ganzoo_extractors.lenet as lenet

    fake = tmp_path / "lenet_mnist.pt"
    torch.save({"conv1.weight": torch.zeros(1)}, fake)
    monkeypatch.setattr(lenet, "WEIGHTS", fake)
    images = ganzoo.load_dataset("mnist5k", "test").images[:20]
    with pytest.raises(ganzoo.GanzooError, match="lenet_mnist.pt.*not the expected a1146ba0600c"):
        ganzoo.evaluate(images, extractor="lenet-mnist", metrics="fid")


def test_a_poisoned_reference_cache_is_recomputed_not_unpickled(tmp_path, monkeypatch):
    """The real features are cached as safetensors: a pickle with code put there never runs."""
    from ganzoo.eval.refcache import Reference

    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path / "cache"))
    images = ganzoo.load_dataset("mnist5k", "train").images[:100]
    first = ganzoo.evaluate(images, extractor="lenet-mnist", metrics="fid")
    info = ganzoo.eval.extractors.get_extractor("lenet-mnist")
    ref = Reference("mnist5k", "test", "lenet-mnist",
                    first.protocol["extractor"]["weights_sha256"], info.resize, info.revision)  # fmt: skip
    assert ref.path.is_file()
    marker = tmp_path / "PWNED"
    pickle = craft(tmp_path / "evil.pt", marker)  # touches the marker if unpickled
    ref.path.write_bytes(pickle.read_bytes())
    again = ganzoo.evaluate(images, extractor="lenet-mnist", metrics="fid")
    assert not marker.exists()
    fid = "frechet_inception_distance"
    assert again.metrics[fid] == pytest.approx(first.metrics[fid], rel=1e-6)
    from safetensors.torch import load_file

    assert set(load_file(str(ref.path))) == {"features"}  # recomputed and cached again
