"""The base model answering as a trial answers: the comparison every claim against the base needs.

Decoding, the system prompt and retrieval are searched with the fine-tuning settings, so a
trial's gain over a base model that answered with other settings mixes what fine-tuning added
with what the settings added (on the default study most of the gain was decoding). A claim that
a configuration beats the base therefore compares it with the base model answering the same
questions with the trial's inference settings and no adapter. Generation is deterministic for a
given seed, so each distinct setting is answered once per process and reused.
:func:`score_base_model` scores the base model as a trial is scored (the study's base trial).
:func:`score_test_split` makes the claim of ``study.export``: a configuration re-trained and
compared with the base on the untouched test split.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Sequence

import objectives
from study.core.config import DecodingConfig, TrialConfig
from study.core.errors import StudyError
from study.finetune.answering import ValidationInputs, probe_scores
from study.finetune.endpoint_judge import judge_into
from study.finetune.evaluation import Evaluation
from study.finetune.memorisation import memorisation_scores
from study.finetune.memory import release_memory
from study.finetune.trial import TrialResult, run_trial

if TYPE_CHECKING:
    from study.finetune.data import QAPair
    from study.finetune.workbench import Workbench


def score_pairs(model: object, bench: "Workbench", cfg: TrialConfig, pairs: "list[QAPair] | None" = None,
                decoding: "DecodingConfig | None" = None) -> Evaluation:
    """``model`` answers ``pairs`` (default: the validation split) with ``cfg``'s prompt, retrieval and decoding.

    Scored with every answer metric and, where ``evaluation.judge`` names an endpoint, judged as a
    trial's answers are, so that every gain against the base (the judge's too) is like for like.
    ``decoding`` replaces ``cfg.decoding`` (export's base with the study's default decoding).
    """
    inputs = ValidationInputs.of(bench, cfg, pairs)
    evaluation = inputs.answer(model, bench, cfg, decoding=decoding)
    judge_into(cfg.evaluation.judge, [p.question for p in inputs.pairs], inputs.references, evaluation.predictions,
               evaluation.metrics, evaluation.per_question)
    return evaluation


def score_base_model(cfg: TrialConfig, bench: "Workbench") -> TrialResult:
    """The untuned base model, scored like a trial: same questions, metrics and per-question scores.

    No adapter and no training: ``train_seconds`` is 0, forgetting is 0 by definition, the
    heuristic judge (itself the base model) rates the base model's own answers, and a judge
    endpoint rates them as it rates every trial's.
    """
    start = time.perf_counter()
    model, tokenizer = bench.base.model, bench.base.tokenizer
    evaluation = score_pairs(model, bench, cfg)  # the judge endpoint, where set, rates the answers here
    metrics, per_question = dict(evaluation.metrics), dict(evaluation.per_question)
    if cfg.evaluation.general_questions:
        _, correct = bench.quiz(cfg.evaluation.general_questions)
        accuracy = sum(correct) / len(correct)
        metrics.update(general_accuracy=accuracy, general_accuracy_base=accuracy, forgetting=0.0)
        per_question["forgetting"] = [0.0] * len(correct)
    if cfg.evaluation.judge_heuristic:
        from study.finetune.judge import judge_scores

        val = ValidationInputs.of(bench, cfg)
        scores = judge_scores(model, tokenizer, [p.question for p in val.pairs], val.references, evaluation.predictions)
        metrics["judge_score"] = sum(scores) / len(scores)
    if cfg.evaluation.probes:
        probe_metrics, probe_items = probe_scores(model, bench, cfg)
        metrics.update(probe_metrics)
        per_question.update(probe_items)
    memorised, memorised_items = memorisation_scores(model, bench, cfg, per_question.get(objectives.stats_key("eval_loss")))
    metrics.update(memorised)
    per_question.update(memorised_items)
    metrics.update(train_seconds=0.0, pretrain_seconds=0.0, total_seconds=time.perf_counter() - start)
    release_memory()
    return TrialResult(metrics, [], evaluation.predictions, None, per_question)


class BaseAnswers:
    """The untuned base model's validation scores under a trial's inference settings, each setting once.

    Call it between trials, when no adapter is attached to the shared model.
    """

    def __init__(self, bench: "Workbench") -> None:
        self.bench = bench
        self._scored: dict[str, Evaluation] = {}

    def __call__(self, cfg: TrialConfig) -> Evaluation:
        key = cfg.inference_key()
        if key not in self._scored:
            self._scored[key] = score_pairs(self.bench.base.model, self.bench, cfg)
            release_memory()
        return self._scored[key]

    def remember(self, cfg: TrialConfig, per_question: dict[str, list]) -> None:
        """Scores the base model already has under ``cfg``'s settings (the study's base trial): not generated again."""
        self._scored.setdefault(cfg.inference_key(), Evaluation({}, [], dict(per_question)))

    def __len__(self) -> int:
        return len(self._scored)


def score_test_split(cfg: TrialConfig, bench: "Workbench", base_decoding: DecodingConfig,
                     metrics: Sequence[str]) -> dict[str, Any]:
    """Re-run the trial's fine-tune and score it and the base model on the untouched test split.

    The base model answers twice: with the trial's own decoding (the gain then isolates what
    fine-tuning added, since decoding is searched too) and with ``base_decoding`` (the
    study's default). Every answer is scored as a trial's are, with its prompt, retrieval and,
    where ``evaluation.judge`` names an endpoint, the judge. ``test_comparison`` holds, per
    metric, the paired gain with its 95 % bootstrap interval and a Wilcoxon signed-rank p-value.
    """
    test = list(bench.splits.test)
    if not test:
        raise StudyError("the data has no test split (test_fraction is 0 or test.jsonl is empty)")
    scores: dict[str, Any] = {}
    base = score_pairs(bench.base.model, bench, cfg, test)
    base_default = score_pairs(bench.base.model, bench, cfg, test,
                               decoding=replace(base_decoding, batch_size=cfg.decoding.batch_size))
    scores["base_test"], scores["base_test_default_decoding"] = base.metrics, base_default.metrics

    def on_trained(model: object) -> None:
        evaluation = score_pairs(model, bench, cfg, test)
        scores["test"] = evaluation.metrics
        scores["tuned_per_question"] = evaluation.per_question
        scores["test_samples"] = [
            {"question": q.question, "reference": q.answer, "answer": a} for q, a in zip(test[:5], evaluation.predictions)
        ]

    result = run_trial(cfg, bench, on_trained=on_trained)
    scores["validation_rerun"] = result.metrics
    comparison = objectives.gain_table(scores.pop("tuned_per_question"), base.per_question, metrics)
    for metric, entry in comparison.items():
        entry.pop("significant", None)
        entry["base_default_decoding"] = base_default.metrics.get(metric)
    scores["test_comparison"] = comparison
    return scores
