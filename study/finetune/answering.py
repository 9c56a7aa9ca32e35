"""Questions answered as a trial answers them: the validation split's inputs, and the knowledge probes.

A trial, the base model (:mod:`study.finetune.fair_base`) and the test split are all scored
through these, so that every score compares with every other: the same prompt, retrieval,
decoding and metrics.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import objectives
from study.core.config import DecodingConfig, TrialConfig
from study.finetune.data import QAPair
from study.finetune.evaluation import Evaluation, answers_and_logprobs, evaluate_model, mean_loss, score_answers
from study.finetune.workbench import Workbench


@dataclass
class ValidationInputs:
    """The validation split as a trial scores it: pairs, prompt ids, teacher-forced examples, references."""

    pairs: list[QAPair]
    prompts: list[list[int]]
    examples: list[dict[str, list[int]]]

    @property
    def references(self) -> list[str]:
        return [p.answer for p in self.pairs]

    @classmethod
    def of(cls, bench: Workbench, cfg: TrialConfig, pairs: Sequence[QAPair] | None = None) -> "ValidationInputs":
        """The validation split (or ``pairs``) with the trial's prompt and, where it is on, retrieval."""
        pairs = bench.with_retrieval(list(bench.splits.val if pairs is None else pairs), cfg.retrieval)
        system_prompt = cfg.data.instructions
        return cls(pairs, bench.tokens.prompts(pairs, system_prompt),
                   bench.tokens.examples(pairs, system_prompt, cfg.data.max_seq_length))

    def answer(self, model: Any, bench: Workbench, cfg: TrialConfig, n: int | None = None,
               decoding: DecodingConfig | None = None) -> Evaluation:
        """``model``'s answers to the first ``n`` questions (default all), scored; ``decoding`` replaces the trial's."""
        n = len(self.pairs) if n is None else min(n, len(self.pairs))
        return evaluate_model(model, bench.base.tokenizer, self.prompts[:n], self.examples[:n], self.references[:n],
                              decoding or cfg.decoding, bench.bertscorer, seed=cfg.training.seed,
                              language=cfg.data.language)

    def answer_in_chunks(self, model: Any, bench: Workbench, cfg: TrialConfig, chunks: int,
                         after_chunk: Callable[[int, Evaluation], bool] | None = None) -> tuple[Evaluation, int | None]:
        """Answer and score the questions chunk by chunk; stop early when ``after_chunk(first, scores)`` says so.

        Returns the scores of the questions answered and, when it stopped early, how many that was.
        """
        start = time.perf_counter()
        pairs, size = self.pairs, math.ceil(len(self.pairs) / chunks)
        predictions: list[str] = []
        scored: list[tuple[float, int]] = []
        bert_items: list[float] = []
        pruned_at = None
        for first in range(0, len(pairs), size):
            answers, logprobs = answers_and_logprobs(model, bench.base.tokenizer, self.prompts[first : first + size],
                                                     self.examples[first : first + size], cfg.decoding,
                                                     seed=cfg.training.seed)
            predictions += answers
            scored += logprobs
            partial = score_answers(answers, self.references[first : first + size], bench.bertscorer,
                                    language=cfg.data.language)
            bert_items += partial.per_question.get("bertscore_f1", [])
            if after_chunk and after_chunk(first, partial) and first + size < len(pairs):
                pruned_at = first + size
                break
        n = len(predictions)
        # Corpus-level metrics (BLEU) need all answers at once; BERTScore is per answer, so the
        # chunks' scores are reused instead of encoding every answer a second time.
        evaluation = score_answers(predictions, self.references[:n], None, language=cfg.data.language)
        if bert_items:
            evaluation.per_question["bertscore_f1"] = bert_items
            evaluation.metrics["bertscore_f1"] = sum(bert_items) / len(bert_items)
        evaluation.metrics["eval_loss"] = mean_loss(scored)
        evaluation.metrics["eval_seconds"] = time.perf_counter() - start
        return evaluation, pruned_at


PROBE_METRICS = ("rougeL", "bertscore_f1", "token_f1")


def probe_scores(model: Any, bench: Workbench, cfg: TrialConfig) -> tuple[dict[str, float], dict[str, list]]:
    """The knowledge probes answered by ``model``: ``probe_seen_*`` (facts it was trained on) and ``probe_unseen_*``.

    Scored like the validation split, against the linked pair's reference answer, with the
    trial's prompt, decoding and retrieval; ``probe_*_loss`` is the reference answer's loss per
    token given the probe. Per-question scores come back for intervals and the knowledge gain.
    """
    from study.finetune.knowledge import KINDS

    probes = bench.probes(cfg.data)
    metrics: dict[str, float] = {}
    per_question: dict[str, list] = {}
    start = time.perf_counter()
    for kind in KINDS:
        chosen = probes.of(kind)[: cfg.evaluation.probe_questions]
        if not chosen:
            continue
        inputs = ValidationInputs.of(bench, cfg, [p.as_pair() for p in chosen])
        evaluation = inputs.answer(model, bench, cfg)
        prefix = f"probe_{kind}_"
        for name in PROBE_METRICS:
            if name in evaluation.metrics:
                metrics[prefix + name] = evaluation.metrics[name]
                per_question[prefix + name] = evaluation.per_question[name]
        metrics[prefix + "loss"] = evaluation.metrics["eval_loss"]
        per_question[objectives.stats_key(prefix + "loss")] = evaluation.per_question[objectives.stats_key("eval_loss")]
    metrics["probe_seconds"] = time.perf_counter() - start
    return metrics, per_question
