from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from study.data import IGNORE_INDEX, QAPair, encode_example
from study.evaluation import answer_loss, label_logprobs


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
