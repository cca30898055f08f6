"""torch-fidelity's InceptionV3, prepared for inference: the same network and weights, less work.

The class definition, the weights file and the forward pass (the TF1-compatible
resize included) stay torch-fidelity's; once the weights are loaded, this
subclass only rearranges the arithmetic:

* each of the 94 batch norms is folded into the convolution before it, in
  float64 and rounded once (``w * gamma / sqrt(var + eps)``, ``beta - mean *
  gamma / sqrt(var + eps)``): 94 normalisation passes over the activations gone;
* weights and activations use the channels-last memory layout, in which
  oneDNN's convolutions and pooling run much faster on the CPU (1.45x here by
  itself) and cuDNN's on tensor-core GPUs;
* the forward runs under ``torch.inference_mode``.

Features agree with torch-fidelity's plain network to a few 1e-6 relative
(rounding of the folded weights), so the extractor's revision was bumped:
old and new rows are never ranked together.  What else was tried (TorchScript
freezing, ``optimize_for_inference``, ``torch.compile``, malloc settings) and
what each gave is in docs/performance.md.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_fidelity.feature_extractor_inceptionv3 import BasicConv2d, FeatureExtractorInceptionV3


class FastInceptionV3(FeatureExtractorInceptionV3):
    """``inception-v3-compat`` with batch norm folded and the channels-last layout."""

    def __init__(self, name: str, features_list: list[str], **kwargs: object) -> None:
        super().__init__(name, features_list, **kwargs)
        fold_batch_norms(self)
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        with torch.inference_mode():
            return super().forward(x)


@torch.no_grad()
def fold_batch_norms(net: nn.Module) -> None:
    """Replace each ``BasicConv2d``'s (conv, batch norm) pair by one biased convolution."""
    for block in net.modules():
        if not isinstance(block, BasicConv2d) or isinstance(block.bn, nn.Identity):
            continue
        conv, bn = block.conv, block.bn
        scale = bn.weight.double() / (bn.running_var.double() + bn.eps).sqrt()
        fused = nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            dilation=conv.dilation,
            groups=conv.groups,
            bias=True,
        ).to(conv.weight.dtype)
        fused.weight.copy_(conv.weight.double() * scale[:, None, None, None])
        fused.bias.copy_(bn.bias.double() - bn.running_mean.double() * scale)
        fused.requires_grad_(False)
        block.conv, block.bn = fused, nn.Identity()
