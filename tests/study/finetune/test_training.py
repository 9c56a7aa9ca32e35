from __future__ import annotations

from types import SimpleNamespace

import pytest
from transformers import TrainerControl

from study.finetune.data import IGNORE_INDEX
from study.finetune.training import EvalHook


def drive(hook: EvalHook, epochs: int, steps_per_epoch: int) -> list[tuple[int, float]]:
    """Call the hook as Trainer._run_epoch does; returns (check, epoch progress) of each check made."""
    seen: list[tuple[int, float]] = []
    state = SimpleNamespace(epoch=0.0)
    control = TrainerControl()
    original = hook.on_check

    def record(check, model):
        seen.append((check, state.epoch))
        return original(check, model)

    hook.on_check = record
    for epoch in range(epochs):
        for step in range(steps_per_epoch):
            state.epoch = epoch + (step + 1) / steps_per_epoch
            hook.on_step_end(None, state, control)
            if control.should_training_stop:
                break
        hook.on_epoch_end(None, state, control)
        if control.should_training_stop:
            break
    return seen


@pytest.mark.parametrize(
    ("per_epoch", "steps", "expected"),
    [
        (1, 4, [(1, 1.0), (2, 2.0)]),
        (2, 4, [(1, 0.5), (2, 1.0), (3, 1.5), (4, 2.0)]),
        (3, 3, [(1, 1 / 3), (2, 2 / 3), (3, 1.0), (4, 4 / 3), (5, 5 / 3), (6, 2.0)]),
        # fewer steps than checks: a check falls at the first step past its point, skipped ones vanish
        (4, 2, [(2, 0.5), (4, 1.0), (6, 1.5), (8, 2.0)]),
        (2, 3, [(1, 2 / 3), (2, 1.0), (3, 5 / 3), (4, 2.0)]),
    ],
)
def test_checks_fall_at_fixed_shares_of_an_epoch(per_epoch, steps, expected):
    hook = EvalHook(lambda check, model: False, per_epoch)
    seen = drive(hook, epochs=2, steps_per_epoch=steps)
    assert [c for c, _ in seen] == [c for c, _ in expected]
    assert [e for _, e in seen] == pytest.approx([e for _, e in expected])
    assert hook.stopped_at is None


def test_a_check_that_says_stop_ends_training_without_an_epoch_end_check():
    hook = EvalHook(lambda check, model: check == 3, per_epoch=2)
    seen = drive(hook, epochs=3, steps_per_epoch=4)
    assert [c for c, _ in seen] == [1, 2, 3]
    assert hook.stopped_at == 3


def test_cpu_loss_with_answer_only_logits_equals_the_full_loss_and_its_gradients(tiny_model_dir, qa_file, tmp_path,
                                                                                draw_lora_b):
    import torch
    from transformers import Trainer

    from study.core.config import DataConfig, LoraConfig, ModelConfig, TrainingConfig, TrialConfig
    from study.finetune.data import TokenCache, load_splits
    from study.finetune.model import attach_adapter, load_base_model
    from study.finetune.training import build_trainer

    cfg = TrialConfig(model=ModelConfig(name=str(tiny_model_dir), device="cpu"),
                      data=DataConfig(path=str(qa_file), max_seq_length=64),
                      lora=LoraConfig(rank=4, alpha=8.0, dropout=0.0), training=TrainingConfig(batch_size=4))
    base = load_base_model(cfg.model)
    splits = load_splits(cfg.data)
    dataset = TokenCache(base.tokenizer).train_dataset(splits.train, cfg.data.instructions, 64)
    model = draw_lora_b(attach_adapter(base, cfg.lora, seed=0), std=0.05)
    trainer = build_trainer(model, base.tokenizer, dataset, cfg, str(tmp_path), "cpu", [])
    batch = next(iter(trainer.get_train_dataloader()))
    assert (batch["labels"] == IGNORE_INDEX).any() and (batch["labels"] != IGNORE_INDEX).any()
    items = (batch["labels"][:, 1:] != IGNORE_INDEX).sum()

    def loss_and_grads(compute):
        model.zero_grad()
        loss = compute()
        loss.backward()
        return float(loss.detach()), [p.grad.clone() for p in model.parameters() if p.requires_grad]

    for n in (None, items, items * 2):  # per-batch mean, and normalised over an accumulated batch
        ours = loss_and_grads(lambda: trainer.compute_loss(model, dict(batch), num_items_in_batch=n))
        full = loss_and_grads(lambda: Trainer.compute_loss(trainer, model, dict(batch), num_items_in_batch=n))
        assert ours[0] == pytest.approx(full[0], rel=1e-5)
        assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-7) for a, b in zip(ours[1], full[1]))
