"""Word-overlap metrics of answers against references: BLEU, ROUGE-1/2/L, token-F1, exact match.

Each reads the answers' language (``Answers.language``, :mod:`objectives._language`): its
tokens, stemmer, BLEU tokeniser and articles; None or ``en`` is English as it always was.
"""

from __future__ import annotations

from functools import lru_cache

from objectives import _text
from objectives._registry import Answers, Metric, register


@lru_cache(maxsize=4)
def _rouge_items(predictions: tuple[str, ...], references: tuple[str, ...],
                 language: str | None) -> list[dict[str, float]]:
    # ROUGE-1, -2 and -L come from one pass of rouge-score: the three metrics share it.
    return _text.rouge_per_question(predictions, references, language)


def _rouge(key: str):
    def per_question(answers: Answers) -> list[float]:
        items = _rouge_items(tuple(answers.predictions), tuple(answers.references), answers.language)
        return [item[key] for item in items]
    return per_question


register(
    Metric("bleu", "max", "corpus BLEU (sacrebleu, 0-100); its rows are per-answer n-gram counts",
           per_question=lambda a: _text.bleu_stats(a.predictions, a.references, a.language),
           from_rows=_text.bleu_from_stats),
    Metric("rouge1", "max", "ROUGE-1 F-measure (rouge-score), 0-1", per_question=_rouge("rouge1")),
    Metric("rouge2", "max", "ROUGE-2 F-measure (rouge-score), 0-1", per_question=_rouge("rouge2")),
    Metric("rougeL", "max", "ROUGE-L F-measure (rouge-score), 0-1", per_question=_rouge("rougeL")),
    Metric("token_f1", "max", "SQuAD token-overlap F1, 0-1",
           per_question=lambda a: _text.token_f1_per_question(a.predictions, a.references, a.language)),
    Metric("exact_match", "max", "1 where the answer equals its reference after normalisation",
           per_question=lambda a: _text.exact_match_per_question(a.predictions, a.references, a.language)),
)
