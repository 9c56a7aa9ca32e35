"""The base model answering as a trial answers: the comparison every claim against the base needs.

Decoding, the system prompt and retrieval are searched with the fine-tuning settings, so a
trial's gain over a base model that answered with other settings mixes what fine-tuning added
with what the settings added (on the default study most of the gain was decoding). A claim that
a configuration beats the base therefore compares it with the base model answering the same
questions with the trial's inference settings and no adapter. Generation is deterministic for a
given seed, so each distinct setting is answered once per process and reused.
:func:`score_test_split` makes the claim of ``study.export``: a configuration re-trained and
compared with the base on the untouched test split.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Sequence

import objectives
from study.core.config import DecodingConfig, TrialConfig
from study.core.errors import StudyError
from study.finetune.evaluation import Evaluation, evaluate_model
from study.finetune.memory import release_memory

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
    from study.finetune.endpoint_judge import judge_into
    from study.finetune.trial import ValidationInputs

    inputs = ValidationInputs.of(bench, cfg, pairs)
    evaluation = evaluate_model(model, bench.base.tokenizer, inputs.prompts, inputs.examples, inputs.references,
                                decoding or cfg.decoding, bench.bertscorer, seed=cfg.training.seed,
                                language=cfg.data.language)
    judge_into(cfg.evaluation.judge, [p.question for p in inputs.pairs], inputs.references, evaluation.predictions,
               evaluation.metrics, evaluation.per_question)
    return evaluation


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
    from study.finetune.trial import run_trial

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
