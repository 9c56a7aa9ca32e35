from __future__ import annotations

import torch

from study.config import DecodingConfig, LoraConfig, ModelConfig
from study.data import QAPair, encode_prompt
from study.evaluation import generate_answers, generation_kwargs
from study.model import adapter_folded_in, attach_adapter, detach_adapter, load_base_model


def test_folding_the_adapter_in_gives_the_same_answers_and_restores_every_weight_exactly(tiny_model_dir):
    base = load_base_model(ModelConfig(name=str(tiny_model_dir), device="cpu"))
    before = {k: v.clone() for k, v in base.model.state_dict().items()}
    model = attach_adapter(base, LoraConfig(rank=4, alpha=8.0, dropout=0.1), seed=0)
    for name, p in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.5)
    model.eval()
    prompts = [encode_prompt(base.tokenizer, QAPair(f"Question {i} about the heart?", "x"), "Be brief.") for i in range(3)]
    ids = torch.tensor([prompts[0]])
    with torch.no_grad():
        unfolded = model(input_ids=ids).logits
        with adapter_folded_in(model):
            folded = model(input_ids=ids).logits
            assert all(m.merged for m in model.modules() if hasattr(m, "merged_adapters"))
        again = model(input_ids=ids).logits
        with model.disable_adapter():
            bare = model(input_ids=ids).logits
    assert torch.allclose(folded, unfolded, atol=1e-4) and not torch.allclose(bare, unfolded, atol=1e-3)
    assert torch.equal(again, unfolded)  # unmerged again, and the LoRA path is back

    decoding = DecodingConfig(max_new_tokens=8, batch_size=3)
    answers = generate_answers(model, base.tokenizer, prompts, decoding)  # folds the adapter in itself
    with torch.no_grad():  # greedy one-by-one with the unmerged adapter, as the reference
        kwargs = generation_kwargs(decoding, base.tokenizer)
        reference = [base.tokenizer.decode(model.generate(input_ids=torch.tensor([p]), **kwargs)[0, len(p):],
                                           skip_special_tokens=True).strip() for p in prompts]
    assert answers == reference

    restored = detach_adapter(model).state_dict()
    assert restored.keys() == before.keys()
    assert all(torch.equal(before[k], restored[k]) for k in before)
