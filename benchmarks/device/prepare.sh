#!/usr/bin/env bash
# Here, where PyPI is reachable: what the GPU checks need on a device machine that cannot fetch anything.
#   .whl/       wheels of the packages its image lacks (or holds in another version), for Python 3.12
#   .gpu/model  the default model's configuration and tokenizer (its weights are random there)
# Both are git-ignored and travel with the device tool's `carry` (64 MiB at most: about 28 here).
# Then: device run, command "bash benchmarks/device/check.sh", carry [".whl", ".gpu"].
#
#   bash benchmarks/device/prepare.sh           # the checks without QLoRA, library versions as here
#   bash benchmarks/device/prepare.sh --qlora   # with bitsandbytes (43 MB), which leaves no room for
#                                               # transformers' wheel: the image's own transformers runs
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
rm -rf .whl .gpu && mkdir -p .whl .gpu
# Versions as installed here, so both machines run the same library code.
pkgs=(trl peft accelerate datasets dill multiprocess optuna alembic sqlalchemy mako colorlog
      huggingface_hub nltk sacrebleu)
[[ "${1:-}" == --qlora ]] && pkgs+=(bitsandbytes) || pkgs+=(transformers)
pins=()
for p in "${pkgs[@]}"; do
    v=$($PY -c "import importlib.metadata as m; print(m.version('$p'))" 2>/dev/null) && pins+=("$p==$v") || pins+=("$p")
done
$PY -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl "${pins[@]}"
# rouge-score is published as a source archive only: build its (pure Python) wheel here.
$PY -m pip wheel -q --no-deps -w .whl "rouge-score==$($PY -c "import importlib.metadata as m; print(m.version('rouge-score'))")"
$PY -m benchmarks.cuda_check --prepare .gpu/model
du -sh .whl .gpu
