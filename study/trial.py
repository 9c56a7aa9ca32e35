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
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Protocol, Sequence

import objectives
from study.config import TrialConfig
from study.data import QAPair, Splits, TokenCache, load_splits
from study.errors import DivergedError
from study.evaluation import Evaluation, answer_loss, answers_and_logprobs, evaluate_model, mean_loss, score_answers
from study.model import BaseModel, attach_adapter, detach_adapter, load_base_model, release_memory
from study.training import EvalHook, build_trainer


class TrialMonitor(Protocol):
    """What a trial tells the study while it runs; each method returns True to stop the trial."""

    def after_check(self, check: int, evaluation: Evaluation) -> bool: ...

    def after_chunk(self, first_question: int, evaluation: Evaluation) -> bool: ...


@dataclass
class TrialResult:
    metrics: dict[str, float]
    history: list[dict[str, float]]  # one dict of metrics per check, with its "epoch" (1.5 = half-way through the second)
    predictions: list[str]
    pruned_at: float | None = None  # epoch (or question index for per-question pruning) where it stopped
    per_item: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class Workbench:
    """What every trial of a process shares: base model, data, token cache, BERTScore encoder."""

    base: BaseModel
    splits: Splits
    tokens: TokenCache
    bertscorer: objectives.BertScorer | None
    _quizzes: dict[int, tuple[Any, float]] = field(default_factory=dict)

    @classmethod
    def load(cls, cfg: TrialConfig, allow_hub: bool = False, bertscore: bool = True) -> "Workbench":
        splits = load_splits(cfg.data)
        base = load_base_model(cfg.model, allow_hub=allow_hub)
        scorer = objectives.BertScorer(device=base.device) if bertscore else None
        bench = cls(base=base, splits=splits, tokens=TokenCache(base.tokenizer), bertscorer=scorer)
        # The libraries' ~500,000 long-lived objects would be rescanned by the full collection at
        # the end of every trial (~1 s each on 2 cores); move them out of the collector's view.
        gc.freeze()
        return bench

    def quiz(self, n_questions: int) -> tuple[Any, float]:
        """The first ``n_questions`` of the general-medicine quiz and the base model's accuracy on them.

        Made once per process: the base score is the reference every trial's forgetting is measured against.
        """
        if n_questions not in self._quizzes:
            from study.forgetting import Quiz, read_quiz

            quiz = Quiz(self.base.tokenizer, read_quiz()[:n_questions], system_prompt=None)
            self._quizzes[n_questions] = (quiz, quiz.accuracy(self.base.model))
        return self._quizzes[n_questions]


def run_trial(
    cfg: TrialConfig,
    bench: Workbench,
    monitor: TrialMonitor | None = None,
    eval_chunks: int = 1,
    full_eval_every_check: bool = True,
    checks_per_epoch: int = 1,
    show_progress: bool = False,
    on_trained: Callable[[Any], None] | None = None,
) -> TrialResult:
    """Fine-tune one adapter on the training split and score it on the validation split.

    With ``eval_chunks > 1`` the validation questions are scored once, after training, in that
    many chunks, and ``monitor.after_chunk`` may stop the trial between chunks (per-question
    pruning); otherwise the validation split is checked after every epoch (``checks_per_epoch``
    times an epoch when a monitor listens) and ``monitor.after_check`` may stop training.
    With ``full_eval_every_check=False`` checks before the last measure the answer loss only
    (no generation), which is all a pruner on ``eval_loss`` needs. ``on_trained(peft_model)``
    runs after a trial that was not pruned, before the adapter is removed (saving it, scoring
    the test split).
    """
    val = list(bench.splits.val)
    system_prompt, max_len = cfg.data.instructions, cfg.data.max_seq_length
    train_ds = bench.tokens.train_dataset(bench.splits.train, system_prompt, max_len)
    prompts = bench.tokens.prompts(val, system_prompt)
    examples = bench.tokens.examples(val, system_prompt, max_len)
    references = [p.answer for p in val]
    tokenizer = bench.base.tokenizer

    history: list[dict[str, float]] = []
    last: dict[str, Evaluation] = {}
    per_epoch = eval_chunks <= 1
    checks = checks_per_epoch if monitor is not None and per_epoch else 1

    def on_check(check: int, model: Any) -> bool:
        if not per_epoch:
            return False  # the chunked evaluation runs after training
        final = check >= cfg.training.epochs * checks
        if final or full_eval_every_check:
            evaluation = evaluate_model(
                model, tokenizer, prompts, examples, references, cfg.decoding, bench.bertscorer, seed=cfg.training.seed
            )
        else:
            t0 = time.perf_counter()
            loss = answer_loss(model, examples, tokenizer.pad_token_id)
            evaluation = Evaluation({"eval_loss": loss, "eval_seconds": time.perf_counter() - t0}, [])
        evaluation.metrics["epoch"] = _epoch(check, checks)
        history.append(dict(evaluation.metrics))
        last["eval"] = evaluation
        stop = bool(monitor and monitor.after_check(check, evaluation))
        return stop and not final

    extra: dict[str, float] = {}
    if cfg.evaluation.general_questions:
        _, extra["general_accuracy_base"] = bench.quiz(cfg.evaluation.general_questions)
    peft_model = attach_adapter(bench.base, cfg.lora, seed=cfg.training.seed)
    hook = EvalHook(on_check, checks)
    start = time.perf_counter()
    try:
        if cfg.pretraining.epochs:
            extra.update(_pretrain(peft_model, bench, cfg, show_progress))
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
        pruned_at = None if hook.stopped_at is None else _epoch(hook.stopped_at, checks)
        if per_epoch:
            evaluation = last["eval"]
        else:
            evaluation, pruned_at = _chunked_evaluation(peft_model, bench, cfg, val, prompts, examples, monitor, eval_chunks)
            history.append(dict(evaluation.metrics))
        if pruned_at is None:
            extra.update(_extra_scores(peft_model, bench, cfg, val, evaluation.predictions))
            if on_trained is not None:
                on_trained(peft_model)
    finally:
        bench.base.model = detach_adapter(peft_model)
        del peft_model
        release_memory()
    metrics = dict(evaluation.metrics)
    metrics.pop("epoch", None)
    metrics.update(extra)
    metrics.update(
        train_loss=train_loss,
        train_seconds=train_seconds + extra.get("pretrain_seconds", 0.0),
        total_seconds=time.perf_counter() - start,
    )
    return TrialResult(metrics, history, evaluation.predictions, pruned_at, evaluation.per_item)


def _epoch(check: int, checks_per_epoch: int) -> float:
    """Epochs of training done at a check: 2 for the second epoch's end, 1.5 half-way through it."""
    return check // checks_per_epoch if check % checks_per_epoch == 0 else check / checks_per_epoch


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
    scored: list[tuple[float, int]] = []
    bert_items: list[float] = []
    pruned_at = None
    for first in range(0, len(val), size):
        answers, logprobs = answers_and_logprobs(model, tokenizer, prompts[first : first + size],
                                                 examples[first : first + size], cfg.decoding, seed=cfg.training.seed)
        predictions += answers
        scored += logprobs
        partial = score_answers(answers, [p.answer for p in val[first : first + size]], bench.bertscorer)
        bert_items += partial.per_item.get("bertscore_f1", [])
        if monitor and monitor.after_chunk(first, partial) and first + size < len(val):
            pruned_at = first + size
            break
    n = len(predictions)
    # Corpus-level metrics (BLEU) need all answers at once; BERTScore is per answer, so the
    # chunks' scores are reused instead of encoding every answer a second time.
    evaluation = score_answers(predictions, [p.answer for p in val[:n]], None)
    if bert_items:
        evaluation.per_item["bertscore_f1"] = bert_items
        evaluation.metrics["bertscore_f1"] = sum(bert_items) / len(bert_items)
    evaluation.metrics["eval_loss"] = mean_loss(scored)
    evaluation.metrics["eval_seconds"] = time.perf_counter() - start
    return evaluation, pruned_at


def _pretrain(peft_model: Any, bench: Workbench, cfg: TrialConfig, show_progress: bool) -> dict[str, float]:
    """Continued pre-training: causal-LM training of the same adapter on the corpus, before QA tuning."""
    p = cfg.pretraining
    dataset = bench.tokens.corpus_dataset(p.corpus, p.block_size, p.max_blocks)
    stage = replace(
        cfg,
        training=replace(cfg.training, epochs=p.epochs, learning_rate=p.learning_rate),
        data=replace(cfg.data, max_seq_length=p.block_size),
    )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lora-pretrain-") as out:
        trainer = build_trainer(peft_model, bench.base.tokenizer, dataset, stage, out, bench.base.device, [], show_progress)
        loss = float(trainer.train().training_loss)
    if not math.isfinite(loss):
        raise DivergedError(f"pre-training loss is {loss}")
    return {"pretrain_loss": loss, "pretrain_seconds": time.perf_counter() - start}


def _extra_scores(peft_model: Any, bench: Workbench, cfg: TrialConfig, val: Sequence[QAPair],
                  predictions: Sequence[str]) -> dict[str, float]:
    """Forgetting (general-medicine quiz) and the judge score, where the config asks for them."""
    out: dict[str, float] = {}
    if cfg.evaluation.general_questions:
        quiz, base_accuracy = bench.quiz(cfg.evaluation.general_questions)
        out["general_accuracy"] = quiz.accuracy(peft_model)
        out["forgetting"] = base_accuracy - out["general_accuracy"]
    if cfg.evaluation.judge:
        from study.judge import judge_scores

        with peft_model.disable_adapter():  # the judge is the base model, the same in every trial
            scores = judge_scores(peft_model, bench.base.tokenizer, [p.question for p in val[: len(predictions)]],
                                  [p.answer for p in val[: len(predictions)]], predictions)
        out["judge_score"] = sum(scores) / len(scores)
    return out
