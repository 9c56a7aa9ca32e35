"""Pure text metrics over lists of strings: BLEU, ROUGE, token-F1, exact match, length.

Each function takes predictions and references of equal length and returns a float
(or a list of per-question floats for the ``*_per_question`` helpers used by the Wilcoxon pruner).
The overlap metrics take the answers' ``language`` (ISO 639-1, :mod:`objectives._language`):
None or ``"en"`` scores exactly as the libraries' English defaults always did.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from functools import lru_cache
from typing import Sequence

import sacrebleu

from objectives._language import Language, language as language_of

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def _check(predictions: Sequence[str], references: Sequence[str]) -> None:
    if len(predictions) != len(references):
        raise ValueError(f"got {len(predictions)} predictions for {len(references)} references")
    if not references:
        raise ValueError("cannot score an empty list of answers")


def normalize(text: str, language: str | None = None) -> str:
    """SQuAD-style normalisation: lower case, no punctuation, no articles, single spaces.

    English (the default) removes ASCII punctuation and a/an/the as SQuAD does; another
    language keeps Unicode words and drops its own articles.
    """
    lang = language_of(language)
    if not lang.is_english:
        return lang.normalize(text)
    text = _ARTICLES.sub(" ", text.lower().translate(_PUNCT))
    return " ".join(text.split())


def bleu(predictions: Sequence[str], references: Sequence[str], language: str | None = None) -> float:
    """Corpus BLEU (sacrebleu; 13a tokenisation for English, the language's tokeniser otherwise), 0-100."""
    _check(predictions, references)
    tokenize = language_of(language).bleu_tokenizer
    return float(sacrebleu.corpus_bleu(list(predictions), [list(references)], tokenize=tokenize).score)


def bleu_stats(predictions: Sequence[str], references: Sequence[str],
               language: str | None = None) -> list[list[int]]:
    """Per answer, the counts corpus BLEU sums: ``[hyp_len, ref_len, correct_1..4, total_1..4]``.

    BLEU is not a mean over questions, so its interval comes from resampling these rows and
    recomputing BLEU from their sums (:func:`bleu_from_stats`), not from per-question scores.
    """
    _check(predictions, references)
    from sacrebleu.metrics import BLEU

    metric = BLEU(tokenize=language_of(language).bleu_tokenizer)
    return [[int(x) for x in row] for row in metric._extract_corpus_statistics(list(predictions), [list(references)])]


def bleu_from_stats(totals: Sequence[int]) -> float:
    """Corpus BLEU (0-100) from summed :func:`bleu_stats` rows; equals :func:`bleu` on the same answers."""
    from sacrebleu.metrics import BLEU

    n = BLEU.MAX_NGRAM_ORDER if hasattr(BLEU, "MAX_NGRAM_ORDER") else 4
    sys_len, ref_len = int(totals[0]), int(totals[1])
    correct, total = [int(x) for x in totals[2 : 2 + n]], [int(x) for x in totals[2 + n : 2 + 2 * n]]
    return float(BLEU.compute_bleu(correct, total, sys_len, ref_len, smooth_method="exp").score)


@lru_cache(maxsize=None)
def _rouge(lang: Language) -> "rouge_scorer.RougeScorer":  # noqa: F821 - imported lazily
    # rouge-score pulls in nltk (seconds of import time): load it on first use only.
    from rouge_score import rouge_scorer

    if lang.is_english:  # rouge-score's own tokeniser (a-z, 0-9) and Porter stemmer, as always
        return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=lang)


def rouge_per_question(predictions: Sequence[str], references: Sequence[str],
                   language: str | None = None) -> list[dict[str, float]]:
    """ROUGE-1/2/L F-measures (0-1) of each answer against its reference, tokenised for ``language``."""
    _check(predictions, references)
    scorer = _rouge(language_of(language))
    out = []
    for pred, ref in zip(predictions, references):
        scores = scorer.score(ref, pred)
        out.append({name: float(s.fmeasure) for name, s in scores.items()})
    return out


def rouge(predictions: Sequence[str], references: Sequence[str], language: str | None = None) -> dict[str, float]:
    """Mean ROUGE-1/2/L F-measures, 0-1, keyed ``rouge1``, ``rouge2``, ``rougeL``."""
    items = rouge_per_question(predictions, references, language)
    return {key: sum(item[key] for item in items) / len(items) for key in ("rouge1", "rouge2", "rougeL")}


def token_f1_per_question(predictions: Sequence[str], references: Sequence[str],
                      language: str | None = None) -> list[float]:
    """SQuAD token-overlap F1 of each answer, 0-1, after :func:`normalize` for ``language``."""
    _check(predictions, references)
    out = []
    for pred, ref in zip(predictions, references):
        p, r = normalize(pred, language).split(), normalize(ref, language).split()
        if not p or not r:
            out.append(float(p == r))
            continue
        common = sum((Counter(p) & Counter(r)).values())
        if common == 0:
            out.append(0.0)
            continue
        precision, recall = common / len(p), common / len(r)
        out.append(2 * precision * recall / (precision + recall))
    return out


def token_f1(predictions: Sequence[str], references: Sequence[str], language: str | None = None) -> float:
    scores = token_f1_per_question(predictions, references, language)
    return sum(scores) / len(scores)


def exact_match_per_question(predictions: Sequence[str], references: Sequence[str],
                         language: str | None = None) -> list[float]:
    """1.0 where the answer equals its reference after normalisation, else 0.0."""
    _check(predictions, references)
    return [float(normalize(p, language) == normalize(r, language)) for p, r in zip(predictions, references)]


def exact_match(predictions: Sequence[str], references: Sequence[str], language: str | None = None) -> float:
    """Share of answers equal to their reference after normalisation, 0-1."""
    return _mean(exact_match_per_question(predictions, references, language))


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def words(text: str) -> int:
    return len(text.split())


def answer_words(predictions: Sequence[str]) -> float:
    """Mean answer length in whitespace-separated words."""
    if not predictions:
        raise ValueError("cannot measure an empty list of answers")
    return sum(words(p) for p in predictions) / len(predictions)


def answer_words_per_question(predictions: Sequence[str]) -> list[float]:
    if not predictions:
        raise ValueError("cannot measure an empty list of answers")
    return [float(words(p)) for p in predictions]


def length_error_per_question(predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    """|log(answer words / reference words)| of each answer."""
    _check(predictions, references)
    return [abs(math.log(max(words(p), 1) / max(words(r), 1))) for p, r in zip(predictions, references)]


def length_error(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Mean |log(answer words / reference words)|: 0 when lengths match, symmetric in too long and too short.

    The brevity objective: an answer of half or of twice the reference's length both score log 2.
    """
    return _mean(length_error_per_question(predictions, references))


def length_ratio_per_question(predictions: Sequence[str], references: Sequence[str]) -> list[float]:
    _check(predictions, references)
    return [words(p) / max(words(r), 1) for p, r in zip(predictions, references)]


def length_ratio(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Mean of answer words / reference words: 1 is the reference's length, >1 too verbose."""
    return _mean(length_ratio_per_question(predictions, references))
