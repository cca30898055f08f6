"""ganzoo's Inception FID/KID/precision/recall against a direct torch-fidelity call.

Usage: python scripts/perf/agreement.py [N]   (default 200 images per side)
Two disjoint random sets of N real mnist5k images: ganzoo.evaluate (the folded network)
against torch_fidelity.calculate_metrics with torch-fidelity's own network; prints each
metric, both values and their relative and absolute differences.
"""

from __future__ import annotations

import sys
import tempfile

import numpy as np
import torch
import torch_fidelity
from ganzoo_extractors.inception import resolve_weights
from torch.utils.data import TensorDataset

import ganzoo


class Gray3(TensorDataset):
    def __getitem__(self, i):
        return self.tensors[0][i].expand(3, -1, -1)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    data = ganzoo.load_dataset("mnist5k", "all").images
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(1))
    first, second = data[order[:n]], data[order[n : 2 * n]]
    with tempfile.TemporaryDirectory() as folder:
        np.savez(f"{folder}/second.npz", images=second.numpy())
        ours = ganzoo.evaluate(
            first, dataset=f"npz:{folder}/second.npz", split="all",
            extractor="inception-v3-compat", metrics="fid,kid,pr",
        )  # fmt: skip
    theirs = torch_fidelity.calculate_metrics(
        input1=Gray3(first), input2=Gray3(second), fid=True, kid=True, prc=True,
        kid_subset_size=n, feature_extractor="inception-v3-compat", cuda=False, verbose=False,
        feature_extractor_weights_path=resolve_weights().path,
    )  # fmt: skip
    for key, value in theirs.items():
        if key in ours.metrics:
            diff = abs(ours.metrics[key] - value)
            print(f"{key}: ganzoo {ours.metrics[key]:.9g} torch-fidelity {value:.9g} "
                  f"relative {diff / abs(value) if value else 0:.2g} absolute {diff:.2g}")  # fmt: skip


if __name__ == "__main__":
    main()
