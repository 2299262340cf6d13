#!/usr/bin/env bash
# Every GPU check of seqlab in one command, for a GPU machine lent for a few minutes
# (docs/benchmarks.md, "GPU"): where the time of a training step goes (profile_gpu.py, with
# the Python places that make the host wait), the gpu benchmark section (seqlab against raw
# cuDNN) and the GPU test suite. Writes 8 files into $OUT (default gpu_check/), the most a
# lent machine hands back:
#   gpu_check.log      everything printed, the card first
#   gpu.json           the benchmark's numbers
#   profile/{lstm,gru}_{cudnn_loop,bare_lightning,seqlab_path}.txt
#                      per cell and side: ms/step, syncs, launches and GPU busy time per step,
#                      the sync sites, the profile (the LSTM trails the GRU against raw cuDNN:
#                      the two cells' files side by side say whether its step is host-bound)
#
# The machine needs PyTorch with CUDA and seqlab's dependencies. Those the lent machines lack
# (Hydra's: /work/.library/device/KINDS.md lists what they hold) travel as wheels in .whl/,
# made here first, at the versions this checkout's .venv runs:
#   bash scripts/gpu_check.sh --wheels     # then carry .whl (ignored by git)
set -uo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--wheels" ]]; then
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >>.git/info/exclude
    pins=$(.venv/bin/python -m pip freeze | grep -iE '^(hydra-core|omegaconf|antlr4-python3-runtime)==')
    # pure-Python packages; antlr4-python3-runtime 4.9.3 is a source release, built here
    exec .venv/bin/python -m pip wheel -q --no-deps -w .whl $pins
fi
OUT=${OUT:-gpu_check}
mkdir -p "$OUT/profile"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
{
    status=0
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    python3 -c "import torch; print('torch', torch.__version__, 'cuDNN', torch.backends.cudnn.version())"
    for cell in lstm gru; do
        echo "== profile ($cell)"
        python3 scripts/profile_gpu.py --out "$OUT/profile" --cell $cell || status=1
    done
    echo "== gpu benchmark"
    python3 scripts/benchmark.py --only gpu --steps 100 --repeats 3 --json "$OUT/gpu.json" || status=1
    echo "== GPU suite"
    python3 -m pytest tests/integration/test_gpu.py -q || status=1
    exit $status
} 2>&1 | tee "$OUT/gpu_check.log"
