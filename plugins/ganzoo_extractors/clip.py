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
NAMES = ("clip-vit-b-32", "clip-vit-b-16", "clip-vit-l-14", "clip-rn50", "clip-vit-l-14-336")
#: ganzoo names whose torch-fidelity metadata key differs (torch-fidelity: ``...-336px``).
METADATA_KEYS = {"clip-vit-l-14-336": "clip-vit-l-14-336px"}
#: CLIP's normalisation (OpenAI, as in CLIPImageProcessor), for images in [0, 1].
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def _meta(name: str) -> dict[str, str]:
    return MODEL_METADATA[METADATA_KEYS.get(name, name)]


def _hub_file(name: str) -> Path:
    key = METADATA_KEYS.get(name, name)
    return Path(torch.hub.get_dir(), "checkpoints", f"{key}-{_meta(name)['hash']}.pt")


def resolver(name: str):
    """The weights resolver of one CLIP encoder."""

    def resolve(user_path: str | None = None) -> ResolvedWeights:
        from .inception import _online

        explicit = user_path or os.environ.get(ENV)
        sha = _meta(name)["hash"]
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
            f"{_meta(name)['filename']}.pt or a plain state dict of it), put OpenAI's file "
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
            MODEL_URLS[METADATA_KEYS.get(name, name)],
            str(dest),
            hash_prefix=_meta(name)["hash"][:8],
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


def cmmd_preprocess(images: torch.Tensor, size: int) -> torch.Tensor:
    """google-research/cmmd's preprocessing of uint8 N x 3 x H x W images, done by PIL itself
    so it is the reference's to the bit: centre crop to a square of the shorter side, PIL
    bicubic resize to ``size`` (antialiased), rounded to uint8 as PIL returns it, scaled to
    [0, 1] and normalised with CLIP's mean/std (the reference's second, torch bicubic
    resize to the same size is the identity).  Float32, on the CPU."""
    import numpy as np
    from PIL import Image

    if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
        raise GanzooError(
            f"CLIP-336 needs uint8 images as N x 3 x H x W, got {images.dtype} "
            f"{tuple(images.shape)}"
        )
    out = []
    for image in images.cpu().permute(0, 2, 3, 1).numpy():
        pil = Image.fromarray(image)
        w, h = pil.size
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        pil = pil.crop((left, top, left + side, top + side))
        out.append(np.asarray(pil.resize((size, size), resample=Image.BICUBIC)))
    x = torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float() / 255.0
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (CLIP_MEAN, CLIP_STD))
    return (x - mean) / std


class Clip336Extractor(ClipExtractor):
    """CLIP ViT-L/14 at 336 px with google-research/cmmd's preprocessing (``cmmd_preprocess``)
    instead of torch-fidelity's TF1-bilinear resize, so CMMD numbers match the paper's."""

    #: ViT-L/14 at 336 px: (width, patch, layers, input resolution, embedding size).
    SHAPE = (1024, 14, 24, 336, 768)

    def __init__(
        self, name: str, features_list: list[str], feature_extractor_weights_path: str | None = None,
        **kwargs: object,
    ) -> None:  # fmt: skip
        super().__init__(name, features_list, feature_extractor_weights_path, **kwargs)
        visual = self.model.visual
        conv = getattr(visual, "conv1", None)
        if not hasattr(visual, "transformer") or conv is None:
            raise GanzooError(
                "clip-vit-l-14-336 needs ViT-L/14-336px weights, got a ResNet CLIP's; give "
                "OpenAI's ViT-L-14-336px.pt or a state dict of it"
            )
        got = (
            conv.weight.shape[0], conv.weight.shape[-1], len(visual.transformer.resblocks),
            visual.input_resolution, visual.proj.shape[1],
        )  # fmt: skip
        if got != self.SHAPE:
            raise GanzooError(
                "clip-vit-l-14-336 needs ViT-L/14-336px weights (width 1024, patch 14, 24 "
                f"layers, 336 px, 768-d); these are width {got[0]}, patch {got[1]}, {got[2]} "
                f"layers, {got[3]} px, {got[4]}-d; give OpenAI's ViT-L-14-336px.pt or a state "
                "dict of it"
            )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        device = next(self.model.parameters()).device
        pixels = cmmd_preprocess(x, self.resolution).to(
            device, self.feature_extractor_internal_dtype
        )
        features = {"clip": self.model.visual(pixels).to(torch.float32)}
        return tuple(features[a] for a in self.features_list)


# One resolver per registered name, named so the plugin can refer to it as a string.
resolve_clip_vit_b_32 = resolver("clip-vit-b-32")
resolve_clip_vit_b_16 = resolver("clip-vit-b-16")
resolve_clip_vit_l_14 = resolver("clip-vit-l-14")
resolve_clip_rn50 = resolver("clip-rn50")
resolve_clip_vit_l_14_336 = resolver("clip-vit-l-14-336")
