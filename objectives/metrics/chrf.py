"""chrF: character n-gram F-score (sacrebleu), per answer.

Characters need no tokeniser and no stemmer, so chrF scores Swedish compounds ("hjärtsvikt"),
Cyrillic or Chinese answers as it scores English ones: a cross-check of the word metrics in any
language. Per answer rather than corpus-level, so it has a per-question interval like ROUGE.
"""

from __future__ import annotations

from functools import lru_cache

from objectives._registry import Answers, Metric, register


@lru_cache(maxsize=1)
def _chrf():
    from sacrebleu.metrics import CHRF

    return CHRF()  # character 6-grams, beta 2: sacrebleu's defaults


def chrf_per_question(predictions, references) -> list[float]:
    """chrF of each answer against its reference, 0-1 (sacrebleu reports 0-100)."""
    scorer = _chrf()
    return [scorer.sentence_score(p, [r]).score / 100.0 for p, r in zip(predictions, references)]


def _per_question(answers: Answers) -> list[float]:
    return chrf_per_question(answers.predictions, answers.references)


register(Metric("chrf", "max", "chrF character n-gram F-score (sacrebleu), 0-1; needs no tokeniser",
                per_question=_per_question))
