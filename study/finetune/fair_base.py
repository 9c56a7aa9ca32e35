"""The base model answering as a trial answers: the comparison every claim against the base needs.

Decoding, the system prompt and retrieval are searched with the fine-tuning settings, so a
trial's gain over a base model that answered with other settings mixes what fine-tuning added
with what the settings added (on the default study most of the gain was decoding). A claim that
a configuration beats the base therefore compares it with the base model answering the same
questions with the trial's inference settings and no adapter. Generation is deterministic for a
given seed, so each distinct setting is answered once per process and reused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from study.core.config import DecodingConfig, TrialConfig
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
