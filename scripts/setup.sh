#!/usr/bin/env bash
# Set up seqlab in ./.venv: a virtual environment, PyTorch (the CPU wheel where there is no
# NVIDIA GPU, so nothing pulls several GB of CUDA packages), then seqlab itself (editable,
# with the dev tools: pytest, ruff, and the sweep plugins).
# Safe to run again; it only adds what is missing.
#   PYTHON=python3.11        interpreter to build the venv from
#   TORCH_INDEX_URL=...      optional index for the torch wheel (e.g. PyTorch's CPU index)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
    echo "seqlab setup: NVIDIA GPU found, installing the default (CUDA) torch wheel"
    "${PIP[@]}" "torch==2.13.0"
  else
    echo "seqlab setup: no GPU, installing the CPU torch wheel first"
    "${PIP[@]}" "torch==2.13.0" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
  fi
fi
"${PIP[@]}" -e ".[dev,sweeps]"
.venv/bin/python -c "import torch; print(f'seqlab setup: ready (torch {torch.__version__})')"
