"""Building TRL's SFT trainer for one trial: the one place that turns a config into a trainer.

The dataset arrives tokenised (``input_ids`` and answer-only ``labels``), so TRL skips its own
preparation and no trial re-tokenises. An :class:`EvalHook` runs the project's evaluation
after each epoch (or more often, for pruning) and can stop training.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from trl import SFTTrainer

from study.core.config import TrialConfig
from study.finetune.logits import answer_logits


class StudySFTTrainer(SFTTrainer):
    """TRL's SFT trainer, with a leaner language-model loss on the CPU.

    TRL's fused LM head computes entropy and token accuracy for its logs and recomputes the
    output logits in the backward pass; on the CPU that made training steps slower than a
    hand-written loop (benchmarks/RESULTS.md, train_throughput). Here the vocabulary head runs only at
    the positions that predict an answer token (:func:`study.finetune.logits.answer_logits`); the loss
    is the same cross-entropy over answer tokens, summed and divided by the answer tokens of
    the whole accumulated batch as the Trainer counts them. On CUDA the fused head saves
    memory, so it is kept there.
    """

    def compute_loss(self, model: Any, inputs: Any, return_outputs: bool = False, num_items_in_batch: Any = None) -> Any:
        if not self.args.use_cpu or return_outputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        import torch.nn.functional as F

        logits, targets, _, _ = answer_logits(model, inputs["input_ids"], inputs.get("attention_mask"),
                                              inputs["labels"], share_prefix=not self.args.gradient_checkpointing)
        loss = F.cross_entropy(logits, targets, reduction="sum")
        # With num_items_in_batch the Trainer treats the loss as already scaled for gradient accumulation.
        return loss / (num_items_in_batch if num_items_in_batch is not None else max(len(targets), 1))


class StepBar(ProgressCallback):
    """The trainer's step progress bar, without printing its log dicts between our lines."""

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        return None


class EvalHook(TrainerCallback):
    """Calls ``on_check(check, model) -> stop`` ``per_epoch`` times an epoch.

    Check ``j`` falls after ``j / per_epoch`` epochs, at the end of the optimiser step that
    reaches that point (the last check of an epoch after its last step), so checks of trials
    with different batch sizes compare the same share of training. When an epoch has fewer
    steps than checks, the checks in between are skipped. Time spent in checks is excluded
    from training time.
    """

    def __init__(self, on_check: Callable[[int, Any], bool], per_epoch: int = 1) -> None:
        self.on_check = on_check
        self.per_epoch = per_epoch
        self.eval_seconds = 0.0
        self.stopped_at: int | None = None  # the check after which training stopped
        self._last = 0

    def _check(self, check: int, model: Any, control: Any) -> None:
        self._last = check
        start = time.perf_counter()
        stop = self.on_check(check, model)
        self.eval_seconds += time.perf_counter() - start
        if stop:
            self.stopped_at = check
            control.should_training_stop = True

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> Any:
        epoch = state.epoch or 0.0
        check = math.floor(epoch * self.per_epoch + 1e-6)
        if self.per_epoch > 1 and check > self._last and abs(epoch - round(epoch)) > 1e-6:
            self._check(check, model, control)
        return control

    def on_epoch_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> Any:
        if self.stopped_at is None:  # training stopped inside the epoch: nothing more to check
            self._check(round((state.epoch or 0.0) * self.per_epoch), model, control)
        return control


def sft_config(cfg: TrialConfig, output_dir: str, device: str, show_progress: bool) -> Any:
    from trl import SFTConfig

    t = cfg.training
    return SFTConfig(
        output_dir=output_dir,
        num_train_epochs=t.epochs,
        learning_rate=t.learning_rate,
        per_device_train_batch_size=t.batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        warmup_steps=t.warmup_ratio,  # a float below 1 is a share of the optimiser steps
        lr_scheduler_type=t.scheduler,
        weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm,
        seed=t.seed,
        data_seed=t.seed,
        gradient_checkpointing=t.gradient_checkpointing,
        use_cpu=device == "cpu",
        bf16=device == "cuda",
        optim="adamw_torch_fused" if device == "cuda" else "adamw_torch",
        max_length=cfg.data.max_seq_length,
        train_sampling_strategy="group_by_length",  # batches of similar length: little padding
        dataset_kwargs={"skip_prepare_dataset": True},
        save_strategy="no",
        eval_strategy="no",
        logging_strategy="no",
        report_to="none",
        disable_tqdm=not show_progress,
        dataloader_num_workers=0,
    )


def build_trainer(
    peft_model: Any,
    tokenizer: Any,
    train_dataset: Any,
    cfg: TrialConfig,
    output_dir: str,
    device: str,
    hooks: list[TrainerCallback],
    show_progress: bool = False,
) -> Any:
    """An ``SFTTrainer`` over the pre-tokenised dataset with the trial's hooks attached."""
    trainer = StudySFTTrainer(
        model=peft_model,
        args=sft_config(cfg, output_dir, device, show_progress),
        train_dataset=train_dataset,
        processing_class=tokenizer,
        callbacks=hooks,
    )
    # The study prints one line per trial; the trainer's own log dicts would interleave with it.
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    if show_progress:
        trainer.add_callback(StepBar())
    return trainer
