from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from study.finetune.data import IGNORE_INDEX, QAPair, encode_example
from study.finetune.evaluation import answer_loss, label_logprobs, prompt_batch


@pytest.fixture(scope="module")
def model_and_examples(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    pairs = [
        QAPair("What does the left ventricle do?", "It pumps oxygenated blood into the aorta."),
        QAPair("Name one sign of rejection.", "Reduced ejection fraction."),
        QAPair("Why are donors matched by blood group?", "Because incompatible groups cause hyperacute rejection, "
               "which destroys the graft within minutes of reperfusion."),
    ]
    examples = [encode_example(tokenizer, p, "Answer briefly.", 96) for p in pairs]
    return model, tokenizer, examples


def reference_logprobs(model, example) -> tuple[float, int]:
    """Full logits of one unpadded example, scored at every labelled position."""
    ids = torch.tensor([example["input_ids"]])
    labels = torch.tensor(example["labels"][1:])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), dim=-1)
    keep = labels != IGNORE_INDEX
    return float(logp[keep].gather(-1, labels[keep].unsqueeze(-1)).sum()), int(keep.sum())


def test_label_logprobs_match_full_logits_per_example_in_the_given_order(model_and_examples):
    model, tokenizer, examples = model_and_examples
    got = label_logprobs(model, examples, tokenizer.pad_token_id, batch_size=2)  # padding and sorting by length
    expected = [reference_logprobs(model, e) for e in examples]
    assert [n for _, n in got] == [n for _, n in expected]
    assert [s for s, _ in got] == pytest.approx([s for s, _ in expected], rel=1e-4)


def test_answer_loss_equals_the_models_own_mean_cross_entropy(model_and_examples):
    model, tokenizer, examples = model_and_examples
    loss = answer_loss(model, examples[:1], tokenizer.pad_token_id)
    with torch.no_grad():
        own = model(input_ids=torch.tensor([examples[0]["input_ids"]]), labels=torch.tensor([examples[0]["labels"]])).loss
    assert loss == pytest.approx(float(own), rel=1e-5)


def test_prompt_batch_pads_between_the_shared_prefix_and_each_rows_rest():
    prefix = list(range(100, 110))  # 10 common tokens
    prompts = [prefix + [1, 2, 3], prefix + [4], prefix + [5, 6]]
    ids, mask, shared = prompt_batch(prompts, pad_token_id=0)
    assert shared == 10
    assert ids[1].tolist() == prefix + [0, 0, 4] and mask[1].tolist() == [1] * 10 + [0, 0, 1]
    assert ids[0].tolist() == prefix + [1, 2, 3] and mask[0].tolist() == [1] * 13
    # positions from the mask (cumsum - 1) are those of the unpadded prompt
    assert ((mask[1].cumsum(0) - 1) * mask[1]).tolist()[-1] == len(prompts[1]) - 1


@pytest.mark.parametrize(
    ("prompts", "share"),
    [
        ([[7] * 20 + [1], [8] * 20 + [1]], True),  # nothing in common: plain left padding
        ([[7] * 5 + [1], [7] * 5 + [2, 3]], True),  # a common start too short to be worth a second call
        ([[7] * 20 + [1], [7] * 20 + [2]], False),  # sharing off (beam search)
        ([[7] * 20 + [1]], True),  # one row
    ],
)
def test_prompt_batch_falls_back_to_left_padding(prompts, share):
    ids, mask, shared = prompt_batch(prompts, pad_token_id=0, share_prefix=share)
    assert shared == 0
    width = max(len(p) for p in prompts)
    for row, p in enumerate(prompts):
        assert ids[row, width - len(p):].tolist() == p and mask[row].sum() == len(p)


def test_shared_prefix_never_swallows_a_whole_prompt():
    ids, mask, shared = prompt_batch([[7] * 12, [7] * 12 + [3]], pad_token_id=0)
    assert shared == 11  # the shorter row keeps one token of its own to start generating from


@pytest.fixture(scope="module")
def adapted(tiny_model_dir, draw_lora_b):
    """The tiny model with a LoRA adapter whose update is not zero (folded in while answering)."""
    from study.core.config import LoraConfig, ModelConfig
    from study.finetune.model import attach_adapter, detach_adapter, load_base_model

    base = load_base_model(ModelConfig(name=str(tiny_model_dir), device="cpu"))
    model = draw_lora_b(attach_adapter(base, LoraConfig(rank=4, alpha=8.0, dropout=0.0), seed=0))
    pairs = [QAPair(f"What is fact {i} about {'the graft ' * (i % 3)}the heart?", f"Fact {i} is {'long ' * i}enough.")
             for i in range(7)]
    yield model, base.tokenizer, pairs
    detach_adapter(model)


def test_answering_from_the_scoring_pass_gives_the_same_answers_and_losses(adapted):
    from study.core.config import DecodingConfig
    from study.finetune.data import encode_prompt
    from study.finetune.evaluation import answers_and_logprobs, generate_answers, mean_loss

    model, tokenizer, pairs = adapted
    prompts = [encode_prompt(tokenizer, p, "Be brief.") for p in pairs]
    examples = [encode_example(tokenizer, p, "Be brief.", 128) for p in pairs]
    decoding = DecodingConfig(max_new_tokens=10, batch_size=3)  # three batches, rows of unequal length
    answers, scored = answers_and_logprobs(model, tokenizer, prompts, examples, decoding)
    assert answers == generate_answers(model, tokenizer, prompts, decoding)
    assert answers == generate_answers(model, tokenizer, prompts, DecodingConfig(max_new_tokens=10, batch_size=1))
    assert len(set(answers)) > 1  # the answers differ by question: a wrong cache would show
    expected = label_logprobs(model, examples, tokenizer.pad_token_id)
    assert [n for _, n in scored] == [n for _, n in expected] and all(n > 0 for _, n in scored)
    assert [s for s, _ in scored] == pytest.approx([s for s, _ in expected], rel=1e-4)
    assert mean_loss(scored) == pytest.approx(answer_loss(model, examples, tokenizer.pad_token_id), rel=1e-4)


def test_examples_cut_inside_their_prompt_are_scored_apart(adapted):
    from study.core.config import DecodingConfig
    from study.finetune.data import encode_prompt
    from study.finetune.evaluation import answers_and_logprobs, generate_answers

    model, tokenizer, pairs = adapted
    prompts = [encode_prompt(tokenizer, p, "Be brief.") for p in pairs[:3]]
    examples = [encode_example(tokenizer, p, "Be brief.", len(prompts[0]) - 2) for p in pairs[:3]]  # no answer left
    decoding = DecodingConfig(max_new_tokens=6, batch_size=3)
    answers, scored = answers_and_logprobs(model, tokenizer, prompts, examples, decoding)
    assert answers == generate_answers(model, tokenizer, prompts, decoding)
    assert scored == [(0.0, 0)] * 3
