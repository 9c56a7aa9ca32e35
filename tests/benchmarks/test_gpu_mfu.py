from __future__ import annotations

import json

import pytest
import torch

from benchmarks import gpu_mfu
from benchmarks._common import RESULT_PREFIX


def test_llama_8b_config_has_the_published_parameter_counts():
    import peft
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(gpu_mfu.llama_8b_config(32))
    assert round(sum(p.numel() for p in model.parameters()) / 1e9, 2) == 8.03
    assert gpu_mfu.matmul_params(model) == 7_504_658_432  # counted before the adapter adds its own Linear layers
    lora = peft.LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM")
    adapted = peft.get_peft_model(model, lora)
    assert sum(p.numel() for p in adapted.parameters() if p.requires_grad) == 41_943_040


@pytest.mark.skipif(torch.cuda.is_available(), reason="skips only where CUDA is absent")
def test_skips_cleanly_without_cuda(capsys):
    assert gpu_mfu.main([]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(RESULT_PREFIX)][0]
    assert json.loads(line.removeprefix(RESULT_PREFIX))["skipped"] is True


@pytest.mark.slow
def test_check_on_cpu_trains_a_tiny_model(capsys):
    assert gpu_mfu.main(["--check-on-cpu", "--steps", "1", "--warmup", "0"]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(RESULT_PREFIX)][0]
    body = json.loads(line.removeprefix(RESULT_PREFIX))
    assert body["mode"] == "check-on-cpu" and body["tokens_per_s"] > 0
