#!/usr/bin/env bash
# The GPU checks, one prepared script for a machine with a CUDA GPU (docs/distributed.md):
# the cuda-marked tests, then one table of GPU numbers (scripts/perf/gpu_table.py) for
# docs/performance.md. Budget: 8 minutes on one GPU; each part has its own time limit.
# Usage: bash scripts/gpu_check.sh        (from the repository root, ganzoo installed)
set -uo pipefail
cd "$(dirname "$0")/.."
export GANZOO_LOAD_PLUGINS=ganzoo GANZOO_OFFLINE=1
python -c "import ganzoo" 2>/dev/null || pip install -q -e ".[dev]" || exit 1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || exit 1

echo "== cuda-marked tests"
timeout 180 python -m pytest -q -m cuda --benchmark-disable -p no:cacheprovider tests
tests=$?

echo "== GPU table"
timeout 300 python scripts/perf/gpu_table.py --device cuda
table=$?

echo "gpu_check: tests exit $tests, table exit $table"
[ "$tests" -eq 0 ] && [ "$table" -eq 0 ]
