"""One trial: a :class:`TrialConfig` in, its metrics out.

The base model, tokenised data and BERTScore encoder live in :class:`Workbench`, built once
per process; a trial only attaches a fresh LoRA adapter, trains it with TRL, evaluates after
each epoch (asking ``monitor`` whether to stop), and removes the adapter again.
"""

from __future__ import annotations

import gc
import math
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

import objectives
from study.config import ModelConfig, TrialConfig
from study.data import QAPair, Splits, TokenCache, load_splits
from study.evaluation import Evaluation, answer_loss, evaluate_model, generate_answers, score_answers
from study.model import BaseModel, attach_adapter, detach_adapter, load_base_model
from study.training import EpochHook, build_trainer


class TrialMonitor(Protocol):
    """What a trial tells the study while it runs; each method returns True to stop the trial."""

    def after_epoch(self, epoch: int, evaluation: Evaluation) -> bool: ...

    def after_chunk(self, first_question: int, evaluation: Evaluation) -> bool: ...


@dataclass
class TrialResult:
    metrics: dict[str, float]
    history: list[dict[str, float]]  # one dict of metrics per evaluated epoch
    predictions: list[str]
    pruned_at: int | None = None  # epoch (or question index for per-question pruning) where it stopped
    per_item: dict[str, list[float]] = field(default_factory=dict)


class DivergedError(RuntimeError):
    """Training produced a NaN or infinite loss."""


@dataclass
class Workbench:
    """What every trial of a process shares: base model, data, token cache, BERTScore encoder."""

    base: BaseModel
    splits: Splits
    tokens: TokenCache
    bertscorer: objectives.BertScorer | None

    @classmethod
    def load(cls, cfg: TrialConfig, allow_hub: bool = False, bertscore: bool = True) -> "Workbench":
        splits = load_splits(cfg.data)
        base = load_base_model(cfg.model, allow_hub=allow_hub)
        scorer = objectives.BertScorer(device=base.device) if bertscore else None
        return cls(base=base, splits=splits, tokens=TokenCache(base.tokenizer), bertscorer=scorer)

    def model_config_matches(self, cfg: ModelConfig) -> bool:
        return cfg.name == self.base.name


def run_trial(
    cfg: TrialConfig,
    bench: Workbench,
    monitor: TrialMonitor | None = None,
    eval_chunks: int = 1,
    full_eval_every_epoch: bool = True,
    show_progress: bool = False,
    on_trained: Callable[[Any], None] | None = None,
) -> TrialResult:
    """Fine-tune one adapter on the training split and score it on the validation split.

    With ``eval_chunks > 1`` the validation questions are scored once, after training, in that
    many chunks, and ``monitor.after_chunk`` may stop the trial between chunks (per-question
    pruning); otherwise every epoch is scored and ``monitor.after_epoch`` may stop training.
    With ``full_eval_every_epoch=False`` epochs before the last measure the answer loss only
    (no generation), which is all a pruner on ``eval_loss`` needs. ``on_trained(peft_model)``
    runs after a trial that was not pruned, before the adapter is removed (saving it, scoring
    the test split).
    """
    val = list(bench.splits.val)
    system_prompt, max_len = cfg.data.system_prompt, cfg.data.max_seq_length
    train_ds = bench.tokens.train_dataset(bench.splits.train, system_prompt, max_len)
    prompts = bench.tokens.prompts(val, system_prompt)
    examples = bench.tokens.examples(val, system_prompt, max_len)
    references = [p.answer for p in val]
    tokenizer = bench.base.tokenizer

    history: list[dict[str, float]] = []
    last: dict[str, Evaluation] = {}
    per_epoch = eval_chunks <= 1

    def on_epoch(epoch: int, model: Any) -> bool:
        if not per_epoch:
            return False  # the chunked evaluation runs after training
        final = epoch >= cfg.training.epochs
        if final or full_eval_every_epoch:
            evaluation = evaluate_model(
                model, tokenizer, prompts, examples, references, cfg.decoding, bench.bertscorer, seed=cfg.training.seed
            )
        else:
            t0 = time.perf_counter()
            loss = answer_loss(model, examples, tokenizer.pad_token_id)
            evaluation = Evaluation({"eval_loss": loss, "eval_seconds": time.perf_counter() - t0}, [])
        evaluation.metrics["epoch"] = epoch
        history.append(dict(evaluation.metrics))
        last["eval"] = evaluation
        stop = bool(monitor and monitor.after_epoch(epoch, evaluation))
        return stop and not final

    peft_model = attach_adapter(bench.base, cfg.lora, seed=cfg.training.seed)
    hook = EpochHook(on_epoch)
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="lora-trial-") as out:
            trainer = build_trainer(
                peft_model, tokenizer, train_ds, cfg, out, bench.base.device, [hook], show_progress
            )
            output = trainer.train()
            train_loss = float(output.training_loss)
            del trainer
        wall = time.perf_counter() - start
        if not math.isfinite(train_loss):
            raise DivergedError(f"training loss is {train_loss}")
        train_seconds = wall - hook.eval_seconds
        pruned_at = hook.stopped_at
        if per_epoch:
            evaluation = last["eval"]
        else:
            evaluation, pruned_at = _chunked_evaluation(peft_model, bench, cfg, val, prompts, examples, monitor, eval_chunks)
            history.append(dict(evaluation.metrics))
        if on_trained is not None and pruned_at is None:
            on_trained(peft_model)
    finally:
        bench.base.model = detach_adapter(peft_model)
        del peft_model
        gc.collect()
    metrics = dict(evaluation.metrics)
    metrics.pop("epoch", None)
    metrics.update(train_loss=train_loss, train_seconds=train_seconds, total_seconds=time.perf_counter() - start)
    return TrialResult(metrics, history, evaluation.predictions, pruned_at, evaluation.per_item)


def _chunked_evaluation(
    model: Any,
    bench: Workbench,
    cfg: TrialConfig,
    val: Sequence[QAPair],
    prompts: Sequence[Sequence[int]],
    examples: Sequence[dict[str, list[int]]],
    monitor: TrialMonitor | None,
    chunks: int,
) -> tuple[Evaluation, int | None]:
    """Score validation questions chunk by chunk; stop early when the monitor says so."""
    start = time.perf_counter()
    tokenizer = bench.base.tokenizer
    size = math.ceil(len(val) / chunks)
    predictions: list[str] = []
    pruned_at = None
    for first in range(0, len(val), size):
        answers = generate_answers(model, tokenizer, prompts[first : first + size], cfg.decoding, seed=cfg.training.seed)
        predictions += answers
        partial = score_answers(answers, [p.answer for p in val[first : first + size]], bench.bertscorer)
        if monitor and monitor.after_chunk(first, partial) and first + size < len(val):
            pruned_at = first + size
            break
    n = len(predictions)
    evaluation = score_answers(predictions, [p.answer for p in val[:n]], bench.bertscorer)
    evaluation.metrics["eval_loss"] = answer_loss(model, examples[:n], tokenizer.pad_token_id)
    evaluation.metrics["eval_seconds"] = time.perf_counter() - start
    return evaluation, pruned_at
