"""Pure pieces of the benchmarks: token counting and FLOP formulas, checked against known values."""

from __future__ import annotations

import torch

from benchmarks.eval_throughput import TokenCounter
from benchmarks.gpu_mfu import flops_per_token
from benchmarks.train_throughput import batch_flops


class FakeModel:
    """``generate`` appends fixed new tokens: row 0 stops at its second token, row 1 never stops."""

    def generate(self, input_ids, attention_mask, **kwargs):
        new = torch.tensor([[5, 2, 0, 0], [6, 7, 8, 9]])
        return torch.cat([input_ids, new], dim=1)


def test_token_counter_counts_new_tokens_up_to_the_first_stop_token():
    model = FakeModel()
    with TokenCounter(model, stop_ids=[2]) as counter:
        model.generate(input_ids=torch.ones(2, 3, dtype=torch.long), attention_mask=torch.ones(2, 3))
    assert counter.useful == 2 + 4 and counter.slots == 8
    assert "generate" not in vars(model)  # the wrapper is gone afterwards


def test_batch_flops_counts_real_tokens_and_attention_per_row():
    batch = {"attention_mask": torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])}
    # rows of 3 and 2 real tokens; N=10, N_lora=1, one layer of width 2
    expected = 3 * (40 + 6 + 12 * 1 * 2 * 3) + 2 * (40 + 6 + 12 * 1 * 2 * 2)
    assert batch_flops(batch, n_frozen=10, n_lora=1, layers=1, attn_width=2) == expected


def test_llama_8b_lora_flops_per_token():
    # Llama 3.1 8B: N = 7.50 B weights in linear layers (LM head included), r=16 on all linear layers
    # gives 41.9 M adapter weights; at 2048 tokens: 30.02 + 0.25 + 3.22 = 33.49 GFLOP per token.
    value = flops_per_token(7_504_658_432, 41_943_040, 32, 4096, 2048)
    assert abs(value - 33.4915e9) < 1e6
