"""Questions answered as a trial answers them: the validation split's inputs, and the knowledge probes.

A trial, the base model (:mod:`study.finetune.fair_base`) and the test split are all scored
through these, so that every score compares with every other: the same prompt, retrieval,
decoding and metrics.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import objectives
from study.core.config import TrialConfig
from study.finetune.data import QAPair
from study.finetune.evaluation import evaluate_model
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
        evaluation = evaluate_model(model, bench.base.tokenizer, inputs.prompts, inputs.examples, inputs.references,
                                    cfg.decoding, bench.bertscorer, seed=cfg.training.seed,
                                    language=cfg.data.language)
        prefix = f"probe_{kind}_"
        for name in PROBE_METRICS:
            if name in evaluation.metrics:
                metrics[prefix + name] = evaluation.metrics[name]
                per_question[prefix + name] = evaluation.per_question[name]
        metrics[prefix + "loss"] = evaluation.metrics["eval_loss"]
        per_question[objectives.stats_key(prefix + "loss")] = evaluation.per_question[objectives.stats_key("eval_loss")]
    metrics["probe_seconds"] = time.perf_counter() - start
    return metrics, per_question
