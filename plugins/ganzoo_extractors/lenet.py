"""``lenet-mnist``: a small CNN whose penultimate layer is a fast, MNIST-aware feature space.

InceptionV3 was trained on photographs and costs ~0.2 s per image on a CPU;
for 28x28 digits a classifier trained on digits separates modes better at a
thousandth of the cost.  The weights ship next to this file and are checked
against the sha256 recorded in the plugin; ``scripts/train_lenet_mnist.py``
regenerates them.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch_fidelity.feature_extractor_base import FeatureExtractorBase

from ganzoo import GanzooError, ResolvedWeights

WEIGHTS = Path(__file__).with_name("lenet_mnist.pt")
#: MNIST's pixel mean and standard deviation (on [0, 1]), used for input normalisation.
MEAN, STD = 0.1307, 0.3081
#: Features are divided by this so that x.y/d is O(1), as for Inception's pool3: KID's cubic
#: kernel is computed in float32 by torch-fidelity and loses its precision on large features.
FEATURE_SCALE = 8.0


class LeNet(nn.Module):
    """conv5-pool-conv5-pool-fc128-fc10; ``features`` is the 128-d ReLU output."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.fc1 = nn.Linear(32 * 4 * 4, 128)
        self.fc2 = nn.Linear(128, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: float B x 1 x 28 x 28, already normalised."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.relu(self.fc1(x.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.features(x))


def preprocess(images: torch.Tensor) -> torch.Tensor:
    """uint8 B x C x H x W (C = 1 or 3) to normalised gray B x 1 x 28 x 28 floats."""
    x = images.float().div_(255.0).mean(dim=1, keepdim=True)
    if x.shape[-2:] != (28, 28):
        x = F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return (x - MEAN) / STD


def resolve_weights(user_path: str | None = None) -> ResolvedWeights:
    """The shipped weights (or a user file); the evaluator checks the shipped file's sha256."""
    path = Path(user_path) if user_path else WEIGHTS
    if not path.is_file():
        raise GanzooError(
            f"lenet-mnist weights {str(path)!r} are missing; reinstall ganzoo or regenerate them "
            "with python scripts/train_lenet_mnist.py"
        )
    return ResolvedWeights(str(path), None, "explicit path" if user_path else "shipped with ganzoo")


class LeNetMnistExtractor(FeatureExtractorBase):
    """torch-fidelity view of ``LeNet``: features ``features`` (128-d) and ``logits`` (10)."""

    def __init__(
        self,
        name: str,
        features_list: list[str],
        feature_extractor_weights_path: str | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(name, features_list)
        self.net = LeNet()
        path = resolve_weights(feature_extractor_weights_path).path
        self.net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if x.dtype != torch.uint8 or x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected uint8 B x 3 x H x W images, got {x.dtype} {tuple(x.shape)}")
        hidden = self.net.features(preprocess(x))
        out = {"features": hidden / FEATURE_SCALE}
        if "logits" in self.features_list:
            out["logits"] = self.net.fc2(hidden)
        return tuple(out[name].float() for name in self.features_list)

    @staticmethod
    def get_provided_features_list() -> tuple[str, ...]:
        return ("features", "logits")

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return {"isc": "logits", "fid": "features", "kid": "features", "prc": "features"}[metric]

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> torch.Tensor:
        return torch.zeros(1, 3, 28, 28, dtype=torch.uint8)
