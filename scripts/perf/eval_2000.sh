#!/usr/bin/env bash
# The 2,000-image Inception evaluation of docs/performance.md: 1,000 mnist5k images scored
# against 1,000 others, the reference not cached, under /usr/bin/time -v (wall, user, system
# time and page faults). Usage: bash scripts/perf/eval_2000.sh [WORK_DIR]
set -euo pipefail
work=${1:-$(mktemp -d)}
mkdir -p "$work"
python - "$work" <<'PY'
import sys

import numpy as np
import torch

import ganzoo

data = ganzoo.load_dataset("mnist5k", "all")
order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
np.savez(f"{sys.argv[1]}/a.npz", images=data.images[order[:1000]].numpy())
np.savez(f"{sys.argv[1]}/b.npz", images=data.images[order[1000:2000]].numpy())
for cached in ganzoo.cache_dir("fidelity").glob("ref-npz_b.npz-*"):
    cached.unlink()  # the reference is encoded again, as on first use
PY
cd "$work"
/usr/bin/time -v ganzoo eval a.npz --dataset npz:b.npz --split all --extractor inception-v3-compat \
    --metrics fid,kid --num-samples 1000
