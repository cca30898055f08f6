#!/usr/bin/env bash
# The GPU checks, one prepared script for a machine with a CUDA GPU (docs/distributed.md):
# the cuda-marked tests, then one table of GPU numbers (scripts/perf/gpu_table.py) for
# docs/performance.md. Budget: 8 minutes on one GPU; each part has its own time limit.
# Usage: bash scripts/gpu_check.sh        (from the repository root)
# On a machine without a package index (the lent H200 of docs/performance.md): put the wheels
# it lacks (torch-fidelity, mlxtend) in .whl/ and, for Inception, GANZOO_INCEPTION_WEIGHTS=PATH.
set -uo pipefail
cd "$(dirname "$0")/.."
export GANZOO_LOAD_PLUGINS=ganzoo GANZOO_OFFLINE=1
PY=${PYTHON:-python3}
if [ -d .whl ]; then
    $PY -m pip install -q --no-index --no-deps --target /tmp/ganzoo-site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/ganzoo-site${PYTHONPATH:+:$PYTHONPATH}
fi
$PY -c "import ganzoo" 2>/dev/null \
    || $PY -m pip install -q --no-index --no-deps --no-build-isolation -e . 2>/dev/null \
    || $PY -m pip install -q -e ".[dev]" || exit 1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || exit 1

echo "== cuda-marked tests"
timeout 180 $PY -m pytest -q -m cuda --benchmark-disable -p no:cacheprovider tests
tests=$?

echo "== GPU table"
timeout 300 $PY scripts/perf/gpu_table.py --device cuda
table=$?

echo "gpu_check: tests exit $tests, table exit $table"
[ "$tests" -eq 0 ] && [ "$table" -eq 0 ]
