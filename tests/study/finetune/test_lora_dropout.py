from __future__ import annotations

import pytest
import torch
from torch import nn

from study.core.config import LoraConfig, ModelConfig
from study.finetune.lora_dropout import MaskDropout, use_mask_dropout
from study.finetune.model import attach_adapter, detach_adapter, load_base_model


def test_drops_the_asked_share_and_keeps_the_expectation():
    torch.manual_seed(0)
    drop = MaskDropout(0.1).train()
    x = torch.ones(1000, 1000)
    out = drop(x)
    dropped = (out == 0).float().mean().item()
    assert drop.p == pytest.approx(0.1, abs=1 / 65536)
    assert dropped == pytest.approx(drop.p, abs=0.002)  # 1e6 draws: the standard error is 0.0003
    assert out.mean().item() == pytest.approx(1.0, abs=0.003)
    assert out.unique().tolist() == [0.0, pytest.approx(1 / (1 - drop.p))]


def test_every_16_bit_lane_of_a_draw_is_uniform():
    # One 64-bit draw serves four elements: each of the four positions must drop at the same rate.
    torch.manual_seed(1)
    out = MaskDropout(0.5).train()(torch.ones(4 * 250_000))
    rates = (out.view(-1, 4) == 0).float().mean(dim=0)
    assert torch.allclose(rates, torch.full((4,), 0.5), atol=0.005)


def test_same_seed_same_mask_and_gradient_through_kept_elements_only():
    drop = MaskDropout(0.3).train()
    x = torch.randn(7, 13, requires_grad=True)  # 91 elements: not a multiple of four
    torch.manual_seed(3)
    out = drop(x)
    torch.manual_seed(3)
    assert torch.equal(drop(x), out)
    out.sum().backward()
    kept = out != 0
    assert torch.allclose(x.grad, kept.float() * drop.scale)
    assert torch.allclose(out[kept], x[kept] * drop.scale)


def test_identity_when_evaluating_or_when_p_is_zero():
    x = torch.randn(5, 6)
    assert MaskDropout(0.2).eval()(x) is x
    assert MaskDropout(0.0).train()(x) is x
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        MaskDropout(1.0)


def test_attach_adapter_on_the_cpu_uses_it_in_every_lora_layer_and_trains(tiny_model_dir):
    base = load_base_model(ModelConfig(name=str(tiny_model_dir), device="cpu"))
    model = attach_adapter(base, LoraConfig(rank=4, alpha=8.0, dropout=0.1, target_modules="all_linear"), seed=0)
    layers = [m for m in model.modules() if isinstance(getattr(m, "lora_dropout", None), nn.ModuleDict)]
    assert layers and all(isinstance(m.lora_dropout["default"], MaskDropout) for m in layers)
    assert use_mask_dropout(model) == 0  # nothing left to replace

    model.train()
    ids = torch.randint(0, 100, (2, 12))
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    grads = [p.grad for n, p in model.named_parameters() if "lora_A" in n]
    assert torch.isfinite(loss) and grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    detach_adapter(model)


def test_no_dropout_layers_to_replace_when_dropout_is_zero(tiny_model_dir):
    base = load_base_model(ModelConfig(name=str(tiny_model_dir), device="cpu"))
    model = attach_adapter(base, LoraConfig(rank=4, alpha=8.0, dropout=0.0), seed=0)
    assert not any(isinstance(m, (MaskDropout, nn.Dropout)) for m in model.modules())
    detach_adapter(model)
