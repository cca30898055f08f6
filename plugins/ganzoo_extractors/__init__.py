"""ganzoo's first-party feature extractors: InceptionV3, a tiny MNIST LeNet, CLIP and DINOv2.

Only descriptions are registered here; the torch-fidelity classes and weight
resolvers are named as ``"module:attribute"`` strings and imported when an
evaluation actually runs, so listing plugins never imports torch.
"""

from __future__ import annotations

from collections.abc import Callable

from ganzoo import FeatureExtractorInfo, hookimpl

#: Mirrors ganzoo_extractors.clip.NAMES (not imported here: registering must not import torch).
CLIP_NAMES = ("clip-vit-b-32", "clip-vit-b-16", "clip-vit-l-14", "clip-rn50")
#: The CLIP encoder CMMD is defined on, with the reference's preprocessing.
CLIP_336 = "clip-vit-l-14-336"
#: Mirrors ganzoo_extractors.dinov2.ARCHITECTURES: (name, network, Meta's weights file).
DINOV2 = (
    ("dinov2-vit-b-14", "ViT-B/14", "dinov2_vitb14_pretrain.pth"),
    ("dinov2-vit-l-14", "ViT-L/14", "dinov2_vitl14_pretrain.pth"),
)
LENET_SHA256 = "a1146ba0600c275fb2eb25c3a10324a6d27214644a5d3e56cc543b1c8a79a77e"


@hookimpl
def register_feature_extractors(register: Callable[..., None]) -> None:
    register(
        "inception-v3-compat",
        FeatureExtractorInfo(
            extractor_class="ganzoo_extractors.inception_fast:FastInceptionV3",
            layers={"isc": "logits_unbiased", "fid": "2048", "kid": "2048", "prc": "2048"},
            resolve_weights="ganzoo_extractors.inception:resolve_weights",
            resize="bilinear (TensorFlow 1.x compatible) to 3x299x299",
            revision=2,  # batch norm folded into the convolutions: features move by ~2e-6
            batch_sizes={"cpu": 8, "cuda": 128},
            default_otherwise=True,
            description="InceptionV3 (TF 2015-12-05 graph) as in torch-fidelity: the standard for "
            "published FID/IS; torch-fidelity's network and weights with batch norm folded and "
            "channels-last layout (~15 images/s on two CPU cores).",
        ),
    )
    register(
        "lenet-mnist",
        FeatureExtractorInfo(
            extractor_class="ganzoo_extractors.lenet:LeNetMnistExtractor",
            layers={"isc": "logits", "fid": "features", "kid": "features", "prc": "features"},
            resolve_weights="ganzoo_extractors.lenet:resolve_weights",
            weights_sha256=LENET_SHA256,
            resize="gray (channel mean), bilinear antialiased to 1x28x28",
            revision=2,  # features divided by 8 (KID precision)
            default_for_shapes=((1, 28, 28),),
            classifies={"mnist5k": "logits", "mnist": "logits"},  # digit i is logit i
            description="Small CNN trained on mnist5k (scripts/train_lenet_mnist.py): fast default "
            "for 28x28 grayscale; 128-d penultimate features, 10 logits for IS.",
        ),
    )
    _register_clip(register)
    _register_dinov2(register)


def _register_clip(register: Callable[..., None]) -> None:
    for name in CLIP_NAMES:
        register(
            name,
            FeatureExtractorInfo(
                extractor_class="ganzoo_extractors.clip:ClipExtractor",
                layers={"fid": "clip", "kid": "clip", "prc": "clip"},
                resolve_weights=f"ganzoo_extractors.clip:resolve_{name.replace('-', '_')}",
                resize="bilinear (TensorFlow 1.x compatible) to the encoder's input, CLIP normalisation",
                description=f"CLIP {name[5:].upper()} image encoder (OpenAI) as in torch-fidelity: "
                "semantic features for FD/KD/PR; weights from --extractor-weights, "
                "GANZOO_CLIP_WEIGHTS, the torch hub cache or a download.",
            ),
        )
    register(
        CLIP_336,
        FeatureExtractorInfo(
            extractor_class="ganzoo_extractors.clip:Clip336Extractor",
            layers={"fid": "clip", "kid": "clip", "prc": "clip"},
            resolve_weights="ganzoo_extractors.clip:resolve_clip_vit_l_14_336",
            resize="google-research/cmmd's: centre crop to square, PIL bicubic (antialiased) to "
            "3x336x336, CLIP normalisation",
            batch_sizes={"cpu": 8, "cuda": 64},  # ViT-L at 577 tokens: attention memory
            description="CLIP ViT-L/14 at 336 px (OpenAI): the encoder CMMD is defined on "
            "(Jayasumana et al. 2024), with the reference's preprocessing; 768-d embeddings "
            "for CMMD (--metrics cmmd) and FD/KD/PR; OpenAI's ViT-L-14-336px.pt (or a state dict of "
            "it) from --extractor-weights, GANZOO_CLIP_WEIGHTS, the torch hub cache or a download.",
        ),
    )


def _register_dinov2(register: Callable[..., None]) -> None:
    for name, size, meta in DINOV2:
        register(
            name,
            FeatureExtractorInfo(
                extractor_class="ganzoo_extractors.dinov2:Dinov2Extractor",
                layers={"fid": "dinov2", "kid": "dinov2", "prc": "dinov2"},
                resolve_weights=f"ganzoo_extractors.dinov2:resolve_{name.replace('-', '_')}",
                resize="PIL bicubic (antialiased) to 3x224x224, ImageNet mean/std (as dgm-eval)",
                batch_sizes={"cpu": 8, "cuda": 128},
                description=f"DINOv2 {size} (Meta), CLS token after the final norm, built with "
                "timm: FD-DINOv2 (Stein et al. 2023) and KD/PR on it; Meta's "
                f"{meta} from --extractor-weights, GANZOO_DINOV2_WEIGHTS or the torch hub cache "
                "(never downloaded); needs pip install 'ganzoo[dinov2]'.",
            ),
        )
