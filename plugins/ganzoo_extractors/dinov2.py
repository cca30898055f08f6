"""DINOv2 ViT-B/14 and ViT-L/14 (Oquab et al. 2023): the features FD-DINOv2 is computed on.

Stein et al. 2023 (dgm-eval) found the Fréchet distance on DINOv2 ViT-L/14
features to agree with human judgements where Inception's disagrees.  Their
code, like torch-fidelity, builds the network with ``torch.hub.load
("facebookresearch/dinov2")``, which downloads and runs that repository's code.
Here the network is timm's (``vit_*_patch14_dinov2``, the same architecture)
and only the weights come from outside: Meta's published file
(``dinov2_vitb14_pretrain.pth``), a plain state dict loaded with
``weights_only=True`` from ``--extractor-weights``, ``GANZOO_DINOV2_WEIGHTS``
or torch hub's cache, never downloaded at run time.

What dgm-eval computes, step by step: each image as a PIL RGB image (grayscale
tiled to three channels by the evaluator), PIL bicubic resize to 224x224, /255,
ImageNet mean/std; the CLS token after the final norm.  The published weights
carry position embeddings for 518 px (37x37 patches); the reference model
interpolates them to the input's 16x16 at every forward pass (bicubic, no
antialias, scale factor (16 + 0.1) / 37, its historical offset).  The same
interpolation is done once here, when the weights are loaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch_fidelity.feature_extractor_base import FeatureExtractorBase

from ganzoo import GanzooError, ResolvedWeights

ENV = "GANZOO_DINOV2_WEIGHTS"
SIZE, PATCH = 224, 14
#: The reference's interpolation offset (``interpolate_offset`` of Meta's hub models).
OFFSET = 0.1
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: ganzoo name -> (timm architecture, Meta's file, width, depth).
ARCHITECTURES = {
    "dinov2-vit-b-14": ("vit_base_patch14_dinov2", "dinov2_vitb14_pretrain.pth", 768, 12),
    "dinov2-vit-l-14": ("vit_large_patch14_dinov2", "dinov2_vitl14_pretrain.pth", 1024, 24),
}
URL = "https://dl.fbaipublicfiles.com/dinov2/{0}/{0}_pretrain.pth"


def hub_file(name: str) -> Path:
    """Where torch hub keeps Meta's file (``torch.hub.load`` downloads it there)."""
    return Path(torch.hub.get_dir(), "checkpoints", ARCHITECTURES[name][1])


def resolver(name: str):
    """The weights resolver of one DINOv2 extractor: a user's file, else the hub cache."""

    def resolve(user_path: str | None = None) -> ResolvedWeights:
        explicit = user_path or os.environ.get(ENV)
        if explicit:
            path = Path(explicit).expanduser()
            if not path.is_file():
                raise GanzooError(f"DINOv2 weights file {str(path)!r} does not exist")
            return ResolvedWeights(str(path), None, "explicit path")
        cached = hub_file(name)
        if cached.is_file():
            return ResolvedWeights(str(cached), None, "torch hub cache")
        stem = ARCHITECTURES[name][1].removesuffix("_pretrain.pth")
        raise GanzooError(
            f"no weights for {name}: give --extractor-weights PATH or {ENV}=PATH, or put Meta's "
            f"{ARCHITECTURES[name][1]} at {cached} (download it from {URL.format(stem)}); "
            "ganzoo never downloads it itself"
        )

    return resolve


def preprocess(images: torch.Tensor) -> torch.Tensor:
    """uint8 N x 3 x H x W as dgm-eval feeds DINOv2: PIL bicubic to 224x224 (PIL antialiases),
    rounded to uint8 as PIL returns it, /255, ImageNet mean/std.  Float32, on the CPU."""
    from PIL import Image

    if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
        raise GanzooError(
            f"DINOv2 needs uint8 images as N x 3 x H x W, got {images.dtype} {tuple(images.shape)}"
        )
    resized = [
        np.asarray(Image.fromarray(image).resize((SIZE, SIZE), resample=Image.BICUBIC))
        for image in images.cpu().permute(0, 2, 3, 1).numpy()
    ]
    x = torch.from_numpy(np.stack(resized)).permute(0, 3, 1, 2).float() / 255.0
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (IMAGENET_MEAN, IMAGENET_STD))
    return (x - mean) / std


def timm_state(name: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Meta's state dict as timm's model at 224 px expects it, refused in one line when it is
    another architecture: position embeddings interpolated as the reference does at run time."""
    _, filename, width, depth = ARCHITECTURES[name]
    pos, qkv = state.get("pos_embed"), state.get("blocks.0.attn.qkv.weight")
    blocks = {int(k.split(".")[1]) for k in state if k.startswith("blocks.")}
    if pos is None or qkv is None or "cls_token" not in state:
        raise GanzooError(
            f"the weights given to {name} are not a DINOv2 state dict (no pos_embed, cls_token or "
            f"blocks.0.attn.qkv.weight); give Meta's {filename}"
        )
    if (pos.shape[-1], len(blocks)) != (width, depth):
        fits = [n for n, a in ARCHITECTURES.items() if (a[2], a[3]) == (pos.shape[-1], len(blocks))]
        hint = f"; they fit {fits[0]}" if fits else ""
        raise GanzooError(
            f"{name} needs weights of width {width} and {depth} blocks; these have width "
            f"{pos.shape[-1]} and {len(blocks)} blocks{hint}; give Meta's {filename}"
        )
    if "register_tokens" in state:
        raise GanzooError(
            f"these are DINOv2 weights with register tokens (a *_reg4 file), which {name} is not; "
            f"give Meta's {filename}"
        )
    out = {k: v for k, v in state.items() if k != "mask_token"}
    out["pos_embed"] = _interpolated(pos)
    return out


def _interpolated(pos: torch.Tensor) -> torch.Tensor:
    """The reference's ``interpolate_pos_encoding`` for a 224 px input, done once."""
    cls, patches = pos[:, :1], pos[:, 1:].float()
    side, dim, grid = int(round(patches.shape[1] ** 0.5)), patches.shape[-1], SIZE // PATCH
    if side * side != patches.shape[1]:
        raise GanzooError(f"DINOv2 position embeddings of {patches.shape[1]} patches are no square")
    if side == grid:
        return pos
    scale = (grid + OFFSET) / side
    grid_embed = patches.reshape(1, side, side, dim).permute(0, 3, 1, 2)
    moved = F.interpolate(grid_embed, scale_factor=(scale, scale), mode="bicubic", antialias=False)
    moved = moved.permute(0, 2, 3, 1).reshape(1, grid * grid, dim).to(pos.dtype)
    return torch.cat([cls, moved], dim=1)


class Dinov2Extractor(FeatureExtractorBase):
    """torch-fidelity view of DINOv2: ``dinov2``, the CLS token after the final norm."""

    def __init__(
        self, name: str, features_list: list[str], feature_extractor_weights_path: str | None = None,
        **kwargs: object,
    ) -> None:  # fmt: skip
        super().__init__(name, features_list)
        # torch-fidelity has DINOv2 extractors of its own (hub code), so ganzoo's are
        # registered with it as ganzoo-<name>.
        name = name.removeprefix("ganzoo-")
        if feature_extractor_weights_path is None:
            raise GanzooError(
                "DINOv2 needs a weights file (ganzoo resolves one before building it)"
            )
        try:
            import timm
        except ImportError:
            raise GanzooError(
                f"{name} is built with timm, which is not installed: pip install 'ganzoo[dinov2]'"
            ) from None
        path = feature_extractor_weights_path  # ganzoo's checked private copy
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        state = timm_state(name, state)
        self.model = timm.create_model(
            ARCHITECTURES[name][0], pretrained=False, img_size=SIZE, num_classes=0
        )
        try:
            self.model.load_state_dict(state)
        except RuntimeError as exc:  # keys or shapes of another network
            first = str(exc).strip().splitlines()[0]
            raise GanzooError(
                f"the weights given to {name} do not fit its network ({first}); give Meta's "
                f"{ARCHITECTURES[name][1]}"
            ) from None
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        device = next(self.model.parameters()).device
        tokens = self.model.forward_features(preprocess(x).to(device))
        return tuple(tokens[:, 0].float() for _ in self.features_list)

    @staticmethod
    def get_provided_features_list() -> tuple[str, ...]:
        return ("dinov2",)

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return {"fid": "dinov2", "kid": "dinov2", "prc": "dinov2"}[metric]

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> torch.Tensor:
        return torch.zeros(1, 3, SIZE, SIZE, dtype=torch.uint8)


# One resolver per registered name, named so the plugin can refer to it as a string.
resolve_dinov2_vit_b_14 = resolver("dinov2-vit-b-14")
resolve_dinov2_vit_l_14 = resolver("dinov2-vit-l-14")
