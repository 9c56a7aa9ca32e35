from __future__ import annotations

import torch
from transformers import AutoTokenizer

from benchmarks.trial_overhead import standard_generate
from study.core.config import DecodingConfig, ModelConfig
from study.finetune.data import QAPair, encode_prompt
from study.finetune.evaluation import generate_answers
from study.finetune.model import load_base_model


def test_the_baselines_standard_generation_answers_as_the_project_does(tiny_model_dir):
    # The baseline's generation is plain transformers; the comparison is fair only if it answers the same.
    base = load_base_model(ModelConfig(name=str(tiny_model_dir), device="cpu"))
    torch.manual_seed(1)
    with torch.no_grad():  # larger random weights: the freshly initialised model only ends its turn
        for p in base.model.parameters():
            p.normal_(0.0, 0.5)
    left = AutoTokenizer.from_pretrained(tiny_model_dir, padding_side="left")
    left.pad_token = left.pad_token or left.eos_token
    questions = ["Why?", "What is the usual first-line drug after the operation?", "Who is listed first, and why?"]
    prompts = [encode_prompt(base.tokenizer, QAPair(q, "x"), "Answer briefly.") for q in questions * 2]
    decoding = DecodingConfig(max_new_tokens=6, batch_size=4)

    standard = standard_generate(base.model, left, prompts, decoding, seed=0)

    assert len(standard) == len(prompts) and any(standard)
    assert standard == generate_answers(base.model, base.tokenizer, prompts, decoding)
