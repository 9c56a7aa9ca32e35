from __future__ import annotations

import torch

from study.core.config import DecodingConfig, LoraConfig, ModelConfig
from study.finetune.data import IGNORE_INDEX, QAPair, encode_prompt
from study.finetune.evaluation import generate_answers, generation_kwargs
from study.finetune.logits import answer_logits, shared_prefix_length
from study.finetune.model import adapter_folded_in, attach_adapter, detach_adapter, load_base_model


def test_folding_the_adapter_in_gives_the_same_answers_and_restores_every_weight_exactly(tiny_model_dir, draw_lora_b):
    base = load_base_model(ModelConfig(name=str(tiny_model_dir), device="cpu"))
    before = {k: v.clone() for k, v in base.model.state_dict().items()}
    model = draw_lora_b(attach_adapter(base, LoraConfig(rank=4, alpha=8.0, dropout=0.1), seed=0))
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


def test_shared_prefix_length_counts_common_attended_tokens_up_to_the_limit():
    ids = torch.tensor([[5, 6, 7, 8, 1], [5, 6, 7, 9, 2], [5, 6, 7, 8, 3]])
    mask = torch.ones_like(ids)
    assert shared_prefix_length(ids, mask, limit=10) == 3
    assert shared_prefix_length(ids, mask, limit=2) == 2
    mask[2, 1] = 0  # a padded position is not shared
    assert shared_prefix_length(ids, mask, limit=10) == 1


def test_answer_logits_with_a_shared_prefix_equal_the_plain_forward(tiny_model_dir, draw_lora_b):
    base = load_base_model(ModelConfig(name=str(tiny_model_dir), device="cpu"))
    model = draw_lora_b(attach_adapter(base, LoraConfig(rank=4, alpha=8.0, dropout=0.0), seed=0))
    rows = [list(range(200, 220)) + [300 + i] * (3 + i) for i in range(3)]  # 20 shared tokens, then 3-5 own
    width = max(map(len, rows)) + 2
    ids = torch.zeros((3, width), dtype=torch.long)
    mask, labels = torch.zeros_like(ids), torch.full_like(ids, IGNORE_INDEX)
    for r, row in enumerate(rows):
        ids[r, : len(row)], mask[r, : len(row)] = torch.tensor(row), 1
        labels[r, 20 : len(row)] = torch.tensor(row[20:])
    assert shared_prefix_length(ids, mask, limit=width) == 20
    shared = answer_logits(model, ids, mask, labels, share_prefix=True)
    plain = answer_logits(model, ids, mask, labels, share_prefix=False)
    assert shared[0].shape == (sum(len(r) - 20 for r in rows), model.config.vocab_size)
    assert torch.allclose(shared[0], plain[0], atol=1e-4)
    assert torch.equal(shared[1], plain[1]) and torch.equal(shared[2], plain[2])
    detach_adapter(model)


def test_rslora_scales_the_update_by_alpha_over_the_square_root_of_the_rank(tiny_model_dir):
    import math

    base = load_base_model(ModelConfig(name=str(tiny_model_dir), device="cpu"))
    for rslora, expected in ((False, 16.0 / 16), (True, 16.0 / math.sqrt(16))):
        model = attach_adapter(base, LoraConfig(rank=16, alpha=16.0, dropout=0.0, use_rslora=rslora), seed=0)
        scalings = {m.scaling["default"] for m in model.modules() if isinstance(getattr(m, "scaling", None), dict)}
        assert scalings == {expected}
        base.model = detach_adapter(model)


def test_an_adapter_is_drawn_from_its_seed_and_leaves_the_process_random_state_as_it_was(tiny_model_dir):
    base = load_base_model(ModelConfig(name=str(tiny_model_dir), device="cpu"))

    def lora_a(seed: int) -> list[torch.Tensor]:
        model = attach_adapter(base, LoraConfig(rank=4, alpha=8.0, dropout=0.0), seed=seed)
        weights = [p.detach().clone() for n, p in model.named_parameters() if "lora_A" in n]
        base.model = detach_adapter(model)
        return weights

    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    first = lora_a(7)
    assert torch.equal(torch.random.get_rng_state(), before)  # nothing else in the process sees another state
    again, other = lora_a(7), lora_a(8)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))
