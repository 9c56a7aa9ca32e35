"""One trial as a recipe: a :class:`TrialConfig` in, its metrics out.

The base model, tokenised data and BERTScore encoder live in the process's
:class:`~study.finetune.workbench.Workbench`; a trial borrows them and runs its phases in order:

    setup → [continued pre-training] → training with checks → evaluation → extra scores → teardown

Retrieval (``retrieval.top_k``) puts passages into the validation and probe prompts (and the
training prompts with ``retrieval.train``); augmentation (``data.augment``) adds paraphrased
questions to the training pairs; ``training.epochs: 0`` skips QA tuning, so that retrieval
or continued pre-training can be measured alone.

Training asks the ``monitor`` (the pruner) after each check whether to stop; teardown removes
the adapter again, whatever happened, so the next trial starts from the untouched base model.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Protocol, Sequence

import objectives
from study.core.config import TrialConfig
from study.core.errors import DivergedError
from study.finetune.answering import ValidationInputs, probe_scores
from study.finetune.canaries import canary_pairs
from study.finetune.data import QAPair
from study.finetune.endpoint_judge import judge_into
from study.finetune.evaluation import Evaluation, answer_loss
from study.finetune.memorisation import memorisation_scores
from study.finetune.memory import release_memory
from study.finetune.model import attach_adapter, detach_adapter
from study.finetune.training import EvalHook, build_trainer
from study.finetune.workbench import Workbench


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
    per_question: dict[str, list] = field(default_factory=dict)  # per-question scores (Evaluation.per_question)
    #: the base model's per-question scores with this trial's decoding and prompt (study.finetune.fair_base)
    base_per_question: dict[str, list] | None = None
    test_per_question: dict[str, list] | None = None  # confirmation runs: per-question scores on the test split


def run_trial(
    cfg: TrialConfig,
    bench: Workbench,
    monitor: TrialMonitor | None = None,
    eval_chunks: int = 1,
    full_eval_every_check: bool = True,
    checks_per_epoch: int = 1,
    show_progress: bool = False,
    on_trained: Callable[[Any], None] | None = None,
    check_questions: int = 0,
    check_max_new_tokens: int = 0,
) -> TrialResult:
    """Fine-tune one adapter on the training split and score it on the validation split.

    With ``eval_chunks > 1`` the validation questions are scored once, after training, in that
    many chunks, and ``monitor.after_chunk`` may stop the trial between chunks (per-question
    pruning); otherwise the validation split is checked after every epoch (``checks_per_epoch``
    times an epoch when a monitor listens) and ``monitor.after_check`` may stop training.
    With ``full_eval_every_check=False`` checks before the last measure the answer loss only
    (no generation), which is all a pruner on ``eval_loss`` needs. ``on_trained(peft_model)``
    runs after a trial that was not pruned, before the adapter is removed (saving it, scoring
    the test split). Checks that generate answers before the last may be made cheaper: answers
    to the first ``check_questions`` validation questions only, at most ``check_max_new_tokens``
    long (0: all questions, the decoding's length); the last check always scores everything.
    """
    recipe = TrialRecipe(cfg, bench, monitor, eval_chunks=eval_chunks, full_eval_every_check=full_eval_every_check,
                         checks_per_epoch=checks_per_epoch, show_progress=show_progress,
                         check_questions=check_questions, check_max_new_tokens=check_max_new_tokens)
    return recipe.run(on_trained)


class TrialRecipe:
    """The phases of one trial, with its state declared here rather than in closures."""

    def __init__(self, cfg: TrialConfig, bench: Workbench, monitor: TrialMonitor | None = None, *,
                 eval_chunks: int = 1, full_eval_every_check: bool = True, checks_per_epoch: int = 1,
                 show_progress: bool = False, check_questions: int = 0, check_max_new_tokens: int = 0) -> None:
        self.cfg, self.bench, self.monitor = cfg, bench, monitor
        self.eval_chunks = eval_chunks
        self.full_eval_every_check = full_eval_every_check
        self.check_questions, self.check_max_new_tokens = check_questions, check_max_new_tokens
        self.show_progress = show_progress
        self.per_epoch = eval_chunks <= 1  # checks during training; otherwise chunks after it
        self.checks = checks_per_epoch if monitor is not None and self.per_epoch else 1  # per epoch
        self.val = ValidationInputs.of(bench, cfg)
        self.history: list[dict[str, float]] = []  # one entry per check
        self.last_check: Evaluation | None = None
        self.extra: dict[str, float] = {}  # scores beside the validation metrics (forgetting, judge, probes, ...)
        self.extra_items: dict[str, list] = {}  # their per-question scores (quiz, probes, the judge endpoint)
        self.peft_model: Any = None

    def run(self, on_trained: Callable[[Any], None] | None = None) -> TrialResult:
        start = time.perf_counter()
        self.setup()
        try:
            if self.cfg.pretraining.epochs:
                self.pretrain()
            train_loss, train_seconds, pruned_at = self.train()
            evaluation, pruned_at = self.evaluate(pruned_at)
            if pruned_at is None:
                self.extra_scores(evaluation.predictions)
                if on_trained is not None:
                    on_trained(self.peft_model)
            else:  # what the adapter memorised by the time it was stopped is part of the trial's record too
                self.memorisation(canaries=False)
        finally:
            self.teardown()
        metrics = {k: v for k, v in evaluation.metrics.items() if k != "epoch"}
        metrics.update(self.extra)
        metrics.update(train_loss=train_loss, train_seconds=train_seconds + self.extra.get("pretrain_seconds", 0.0),
                       total_seconds=time.perf_counter() - start)
        return TrialResult(metrics, self.history, evaluation.predictions, pruned_at,
                           {**evaluation.per_question, **self.extra_items})

    def setup(self) -> None:
        """The base model's quiz score (once per process) and a fresh adapter on the shared model."""
        if self.cfg.evaluation.general_questions:
            _, base_correct = self.bench.quiz(self.cfg.evaluation.general_questions)
            self.extra["general_accuracy_base"] = sum(base_correct) / len(base_correct)
        self.peft_model = attach_adapter(self.bench.base, self.cfg.lora, seed=self.cfg.training.seed)

    def pretrain(self) -> None:
        """Continued pre-training: causal-LM training of the same adapter on the corpus, before QA tuning."""
        p = self.cfg.pretraining
        dataset = self.bench.tokens.corpus_dataset(p.corpus, p.block_size, p.max_blocks)
        stage = replace(
            self.cfg,
            training=replace(self.cfg.training, epochs=p.epochs, learning_rate=p.learning_rate),
            data=replace(self.cfg.data, max_seq_length=p.block_size),
        )
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="lora-pretrain-") as out:
            trainer = build_trainer(self.peft_model, self.bench.base.tokenizer, dataset, stage, out,
                                    self.bench.base.device, [], self.show_progress)
            loss = float(trainer.train().training_loss)
        if not math.isfinite(loss):
            raise DivergedError(f"pre-training loss is {loss}")
        self.extra.update(pretrain_loss=loss, pretrain_seconds=time.perf_counter() - start)

    def training_pairs(self) -> list[QAPair]:
        """The training split, with paraphrased questions added (``data.augment``) and passages (``retrieval.train``)."""
        cfg, bench = self.cfg, self.bench
        pairs = list(bench.splits.train)
        if cfg.data.augment:
            from study.finetune.knowledge import augment

            pairs = augment(pairs, bench.probes(cfg.data), cfg.data.augment)
        if cfg.retrieval.train:
            pairs = bench.with_retrieval(pairs, cfg.retrieval)
        return pairs + canary_pairs(cfg)  # made-up records whose memorisation is measured (privacy.canaries)

    def train(self) -> tuple[float, float, float | None]:
        """QA tuning with checks; returns the training loss, seconds spent training, and where it was stopped."""
        cfg, bench = self.cfg, self.bench
        if cfg.training.epochs == 0:  # no QA tuning: the one check scores the untrained adapter (= base + pre-training)
            self.check(0, self.peft_model)
            return math.nan, 0.0, None
        train_ds = bench.tokens.train_dataset(self.training_pairs(), cfg.data.instructions, cfg.data.max_seq_length)
        hook = EvalHook(self.check, self.checks)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="lora-trial-") as out:
            trainer = build_trainer(self.peft_model, bench.base.tokenizer, train_ds, cfg, out, bench.base.device,
                                    [hook], self.show_progress)
            train_loss = float(trainer.train().training_loss)
            del trainer
        if not math.isfinite(train_loss):
            raise DivergedError(f"training loss is {train_loss}")
        seconds = time.perf_counter() - start - hook.eval_seconds
        return train_loss, seconds, None if hook.stopped_at is None else _epoch(hook.stopped_at, self.checks)

    def check(self, check: int, model: Any) -> bool:
        """One check during training (the hook calls it); True stops training, never after the last."""
        if not self.per_epoch:
            return False  # the chunked evaluation runs after training
        final = check >= self.cfg.training.epochs * self.checks
        if final:
            evaluation = self.val.answer(model, self.bench, self.cfg)
        elif self.full_eval_every_check:
            evaluation = self._evaluate_check(model)
        else:  # the answer loss is all a pruner on eval_loss needs: no generation
            t0 = time.perf_counter()
            loss = answer_loss(model, self.val.examples, self.bench.base.tokenizer.pad_token_id)
            evaluation = Evaluation({"eval_loss": loss, "eval_seconds": time.perf_counter() - t0}, [])
        evaluation.metrics["epoch"] = _epoch(check, self.checks)
        self.history.append(dict(evaluation.metrics))
        self.last_check = evaluation
        stop = bool(self.monitor and self.monitor.after_check(check, evaluation))
        return stop and not final

    def evaluate(self, pruned_at: float | None) -> tuple[Evaluation, float | None]:
        """The trial's validation scores: the last check's, or chunk by chunk after training (per-question pruning)."""
        if self.per_epoch:
            assert self.last_check is not None, "training ends with a check"
            return self.last_check, pruned_at
        evaluation, pruned_at = self.val.answer_in_chunks(self.peft_model, self.bench, self.cfg, self.eval_chunks,
                                                          self.monitor.after_chunk if self.monitor else None)
        self.history.append(dict(evaluation.metrics))
        return evaluation, pruned_at

    def extra_scores(self, predictions: Sequence[str]) -> None:
        """Forgetting (general-medicine quiz), the judges and the knowledge probes, where the config asks;
        membership inference and canary exposure (:mod:`study.finetune.memorisation`)."""
        cfg, bench = self.cfg, self.bench
        if cfg.evaluation.general_questions:
            quiz, base_correct = bench.quiz(cfg.evaluation.general_questions)
            correct = quiz.correct(self.peft_model)
            # Per quiz question: 1 where the base model was right and the trial is not, -1 the other way.
            self.extra_items["forgetting"] = [b - c for b, c in zip(base_correct, correct)]
            self.extra["general_accuracy"] = sum(correct) / len(correct)
            self.extra["forgetting"] = self.extra["general_accuracy_base"] - self.extra["general_accuracy"]
        pairs = self.val.pairs[: len(predictions)]
        if cfg.evaluation.judge_heuristic:
            from study.finetune.judge import judge_scores

            with self.peft_model.disable_adapter():  # the judge is the base model, the same in every trial
                scores = judge_scores(self.peft_model, bench.base.tokenizer, [p.question for p in pairs],
                                      [p.answer for p in pairs], predictions)
            self.extra["judge_score"] = sum(scores) / len(scores)
        # the validation answers, rated by the judge endpoint where one is set: per-question scores
        judge_into(cfg.evaluation.judge, [p.question for p in pairs], [p.answer for p in pairs], predictions,
                   self.extra, self.extra_items)
        if cfg.evaluation.probes:
            probe_metrics, probe_items = probe_scores(self.peft_model, bench, cfg)
            self.extra.update(probe_metrics)
            self.extra_items.update(probe_items)
        self.memorisation(canaries=True)

    def memorisation(self, canaries: bool) -> None:
        """Membership inference on the adapter as it is now, and canary exposure where asked and ``canaries``.

        A pruned trial (``canaries`` False) measures membership on as many pairs as its last check
        answered, whose held-out losses it has: a wider interval, and one short pass, not two.
        """
        cfg = self.cfg
        held_out = self.last_check.per_question.get(objectives.stats_key("eval_loss")) if self.last_check else None
        if not canaries:
            pairs = cfg.privacy.membership_pairs
            if held_out and pairs != 0:
                pairs = len(held_out) if pairs is None else min(pairs, len(held_out))
            cfg = replace(cfg, privacy=replace(cfg.privacy, canaries=0, membership_pairs=pairs))
        memorised, memorised_items = memorisation_scores(self.peft_model, self.bench, cfg, held_out)
        self.extra.update(memorised)
        self.extra_items.update(memorised_items)

    def teardown(self) -> None:
        """Remove the adapter from the shared model and give back what the trial used."""
        if self.peft_model is not None:
            self.bench.base.model = detach_adapter(self.peft_model)
            self.peft_model = None
        release_memory()

    def _evaluate_check(self, model: Any) -> Evaluation:
        """A check before the last that generates answers: on a fixed subset, with short answers, when asked."""
        decoding = self.cfg.decoding
        if self.check_max_new_tokens:
            decoding = replace(decoding, max_new_tokens=min(decoding.max_new_tokens, self.check_max_new_tokens))
        evaluation = self.val.answer(model, self.bench, self.cfg, self.check_questions or None, decoding)
        evaluation.metrics["questions"] = float(len(evaluation.predictions))
        return evaluation


def _epoch(check: int, checks_per_epoch: int) -> float:
    """Epochs of training done at a check: 2 for the second epoch's end, 1.5 half-way through it."""
    return check // checks_per_epoch if check % checks_per_epoch == 0 else check / checks_per_epoch
