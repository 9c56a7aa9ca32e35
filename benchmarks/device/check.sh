#!/usr/bin/env bash
# On a GPU machine lent through the device tool (after benchmarks/device/prepare.sh here):
#   device run  command: bash benchmarks/device/check.sh   carry: [".whl", ".gpu"]   timeout_s: 540
# Installs the carried wheels beside the image's PyTorch, then runs the CUDA checks of issue 4
# (cuda_check: bf16 trial, generation, memory, QLoRA where bitsandbytes is there; gpu_mfu: a
# Llama-3.1-8B-shaped LoRA step). Each output lands in $OUT and comes back.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/device-out}; mkdir -p "$out"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "installing the carried wheels failed"; exit 1; }
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$out/gpu.txt"
python3 -c "import torch, transformers, trl, peft, optuna; print(torch.__version__, transformers.__version__, trl.__version__, peft.__version__, optuna.__version__)" 2>&1 | tee -a "$out/gpu.txt"
timeout 200 python3 -m benchmarks.cuda_check --model .gpu/model 2>&1 | tee "$out/cuda_check.txt"
timeout 240 python3 -m benchmarks.gpu_mfu 2>&1 | tee "$out/gpu_mfu.txt"
