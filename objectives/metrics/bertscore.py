"""BERTScore F1 with the study's encoder (objectives.BertScorer), one score per answer."""

from __future__ import annotations

from objectives._registry import Answers, Metric, register


def _per_question(answers: Answers) -> list[float]:
    return answers.encoder.per_question(answers.predictions, answers.references)


register(Metric("bertscore_f1", "max", "BERTScore F1 (bert-score with the study's encoder)",
                needs=frozenset({"answers", "references", "encoder"}), per_question=_per_question))
