"""CLIP image encoders (torch-fidelity's ``clip-*``) with the same weights rules as Inception.

torch-fidelity builds CLIP's visual tower itself (``build_model``) from OpenAI's
TorchScript archives, downloaded from OpenAI's URLs.  Here the weights are found
in the documented order, offline first: ``--extractor-weights PATH`` or
``GANZOO_CLIP_WEIGHTS``, then torch hub's cache (where torch-fidelity keeps
them), then the download when online.  A file is either OpenAI's own archive,
accepted only with the sha256 torch-fidelity records for it, or a plain state
dict of the same keys (``torch.save``), which can never run code.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import torch
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.feature_extractor_clip import (
    MODEL_METADATA,
    MODEL_URLS,
    FeatureExtractorCLIP,
    build_model,
)

from ganzoo import GanzooError, ResolvedWeights

ENV = "GANZOO_CLIP_WEIGHTS"
#: The CLIP encoders ganzoo registers (each is `clip-...` in torch-fidelity too).
NAMES = ("clip-vit-b-32", "clip-vit-b-16", "clip-vit-l-14", "clip-rn50")


def _hub_file(name: str) -> Path:
    return Path(torch.hub.get_dir(), "checkpoints", f"{name}-{MODEL_METADATA[name]['hash']}.pt")


def resolver(name: str):
    """The weights resolver of one CLIP encoder."""

    def resolve(user_path: str | None = None) -> ResolvedWeights:
        from .inception import _online

        explicit = user_path or os.environ.get(ENV)
        sha = MODEL_METADATA[name]["hash"]
        if explicit:
            path = Path(explicit).expanduser()
            if not path.is_file():
                raise GanzooError(f"CLIP weights file {str(path)!r} does not exist")
            archive = _is_torchscript(path)
            return ResolvedWeights(
                str(path), None, "explicit path",
                expected_sha256=sha if archive else None,
                format="torchscript" if archive else "state_dict",
            )  # fmt: skip
        hub = _hub_file(name)
        if not hub.is_file() and _online():
            _download(name, hub)
        if hub.is_file():
            return ResolvedWeights(
                str(hub), None, "torch hub cache", expected_sha256=sha, format="torchscript"
            )
        raise GanzooError(
            f"no weights for {name}: give --extractor-weights PATH or {ENV}=PATH (OpenAI's "
            f"{MODEL_METADATA[name]['filename']}.pt or a plain state dict of it), put OpenAI's file "
            f"at {hub}, or run once with network access"
        )

    return resolve


def _is_torchscript(path: Path) -> bool:
    """OpenAI's archives are TorchScript: a zip whose records include code/ or constants.pkl."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return any(
                n.split("/", 1)[-1].startswith(("code/", "constants.pkl"))
                for n in archive.namelist()
            )
    except (OSError, zipfile.BadZipFile):
        return False


def _download(name: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(
            MODEL_URLS[name],
            str(dest),
            hash_prefix=MODEL_METADATA[name]["hash"][:8],
            progress=False,
        )
    except Exception:  # offline after all: the error below lists every way
        return


class ClipExtractor(FeatureExtractorCLIP):
    """torch-fidelity's CLIP feature extractor, built from a state dict or a verified archive."""

    def __init__(
        self, name: str, features_list: list[str], feature_extractor_weights_path: str | None = None,
        **kwargs: object,
    ) -> None:  # fmt: skip
        FeatureExtractorBase.__init__(
            self, name, features_list
        )  # the loading below replaces CLIP's
        if feature_extractor_weights_path is None:
            raise GanzooError("CLIP needs a weights file (ganzoo resolves one before building it)")
        self.feature_extractor_internal_dtype = torch.float32
        self.model = build_model(_state_dict(Path(feature_extractor_weights_path)), torch.float32)
        self.resolution = self.model.visual.input_resolution
        self.requires_grad_(False)
        self.eval()


def _state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a plain state dict, or of an archive ganzoo has already hash-checked."""
    data = path.read_bytes()
    if _is_torchscript(path):
        return dict(torch.jit.load(io.BytesIO(data), map_location="cpu").state_dict())
    return dict(torch.load(io.BytesIO(data), map_location="cpu", weights_only=True))


# One resolver per registered name, named so the plugin can refer to it as a string.
resolve_clip_vit_b_32 = resolver("clip-vit-b-32")
resolve_clip_vit_b_16 = resolver("clip-vit-b-16")
resolve_clip_vit_l_14 = resolver("clip-vit-l-14")
resolve_clip_rn50 = resolver("clip-rn50")
