"""Building TRL's SFT trainer for one trial: the one place that turns a config into a trainer.

The dataset arrives tokenised (``input_ids`` and answer-only ``labels``), so TRL skips its own
preparation and no trial re-tokenises. An :class:`EpochHook` runs the project's evaluation
after each epoch and can stop training (pruning).
"""

from __future__ import annotations

import time
from typing import Any, Callable

from transformers import Trainer, TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from trl import SFTTrainer

from study.config import TrialConfig


class StudySFTTrainer(SFTTrainer):
    """TRL's SFT trainer, with the plain language-model loss on the CPU.

    TRL's fused LM head computes entropy and token accuracy for its logs and recomputes the
    output logits in the backward pass; on the CPU that made training steps ~25% slower than
    a hand-written loop (benchmarks/train_throughput). The loss is the same mean cross-entropy
    over answer tokens. On CUDA the fused head saves memory, so it is kept there.
    """

    def compute_loss(self, model: Any, inputs: Any, return_outputs: bool = False, num_items_in_batch: Any = None) -> Any:
        if self.args.use_cpu:
            return Trainer.compute_loss(self, model, inputs, return_outputs, num_items_in_batch)
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)


class StepBar(ProgressCallback):
    """The trainer's step progress bar, without printing its log dicts between our lines."""

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        return None


class EpochHook(TrainerCallback):
    """Calls ``on_epoch(epoch, model) -> stop`` after each epoch; time spent there is excluded from training time."""

    def __init__(self, on_epoch: Callable[[int, Any], bool]) -> None:
        self.on_epoch = on_epoch
        self.eval_seconds = 0.0
        self.stopped_at: int | None = None

    def on_epoch_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> Any:
        epoch = round(state.epoch or 0)
        start = time.perf_counter()
        stop = self.on_epoch(epoch, model)
        self.eval_seconds += time.perf_counter() - start
        if stop:
            self.stopped_at = epoch
            control.should_training_stop = True
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
