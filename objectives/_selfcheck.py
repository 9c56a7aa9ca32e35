"""A check of the metrics on the study's own references, before any trial is scored with them.

A metric that cannot read the data's language fails silently: rouge-score keeps only a-z and
0-9, so a Russian or Chinese answer identical to its reference scores ROUGE-L 0, and a study
on such data optimises a constant. Here every similarity metric scores the references against
themselves (it must give its perfect score) and against the references of other questions
(it must score them lower). A metric that fails either test is named with the language.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Sequence

import objectives.metrics  # noqa: F401 - registers the metrics checked here
from objectives._language import detect_language, language as language_of
from objectives._registry import Answers, Metric, answer_metrics
from study.core.errors import StudyError

MIN_WORDS = 4  # references shorter than this have no 4-grams (BLEU) and few bigrams (ROUGE-2): not checked
MAX_REFERENCES = 200  # enough to tell a working metric from a broken one; keeps BERTScore's check short
TOLERANCE = 1e-3  # BERTScore computes in float32: identical text gives 1 - 1e-7
PERFECT = {"bleu": 100.0}  # a similarity metric's score of identical text where it is not 1


@dataclass(frozen=True)
class MetricCheck:
    """One metric on the references: its perfect score, the mean on identical text, on shuffled text."""

    metric: str
    perfect: float
    identical: float
    shuffled: float

    @property
    def problem(self) -> str | None:
        """Why the metric cannot be trusted on this language, or None."""
        if abs(self.identical - self.perfect) > TOLERANCE * self.perfect:
            return f"{self.metric} gives identical text {_fmt(self.identical, self.perfect)}, not {self.perfect:g}"
        if not self.shuffled < self.identical:
            return (f"{self.metric} cannot tell answers to other questions apart from identical text "
                    f"({_fmt(self.shuffled, self.perfect)} vs {_fmt(self.identical, self.perfect)})")
        return None


@dataclass(frozen=True)
class SelfCheck:
    """Every metric's check on one set of references in one language."""

    language: str
    references: int
    checks: tuple[MetricCheck, ...]

    @property
    def problems(self) -> list[str]:
        return [c.problem for c in self.checks if c.problem]

    def summary(self) -> str:
        """One line: each metric's score of identical / shuffled references, and the verdict."""
        if not self.checks:
            return (f"metric self-check ({self.language}): skipped, fewer than 2 references of "
                    f"{MIN_WORDS}+ words")
        scores = ", ".join(f"{c.metric} {_fmt(c.identical, c.perfect)}/{_fmt(c.shuffled, c.perfect)}"
                           for c in self.checks)
        verdict = "FAILED: " + "; ".join(self.problems) if self.problems else "passed"
        return (f"metric self-check ({self.language}, {self.references} references; identical/shuffled): "
                f"{scores}: {verdict}")

    def failure(self) -> str | None:
        """The one line that stops a study, naming metric and language; None when every metric passed."""
        if not self.problems:
            return None
        return (f"the metrics cannot score language '{self.language}': " + "; ".join(self.problems)
                + " (data.language sets the language; evaluation.bertscore_model a multilingual encoder)")


def self_check(references: Sequence[str], language: str | None = None, encoder: Any = None,
               seed: int = 0) -> SelfCheck:
    """Score ``references`` against themselves and against a derangement of them, metric by metric.

    The metrics are the registry's answer metrics that improve upwards (the similarity metrics:
    ROUGE, BLEU, token-F1, exact match, chrF, and BERTScore where an ``encoder`` is given;
    lengths are not similarities). Only references of at least :data:`MIN_WORDS` words
    (counted with the Unicode tokeniser of :mod:`objectives._language`, whatever the metric's
    own) are used, at most :data:`MAX_REFERENCES`.
    """
    lang = language_of(language)
    checked = [r for r in references if len(lang.words(r)) >= MIN_WORDS][:MAX_REFERENCES]
    if len(set(checked)) < 2:
        return SelfCheck(lang.code, len(checked), ())
    same = Answers(checked, checked, (), lang.code, encoder)
    other = Answers(_derangement(checked, seed), checked, (), lang.code, encoder)
    checks = [MetricCheck(m.name, PERFECT.get(m.name, 1.0), _value(m, same), _value(m, other))
              for m in answer_metrics(with_encoder=encoder is not None) if m.maximize]
    return SelfCheck(lang.code, len(checked), tuple(checks))


def checked_language(texts: Sequence[str], references: Sequence[str], language: str | None, source: str,
                     setting: str = "data.language", encoder: Any = None) -> tuple[str, SelfCheck]:
    """The answers' language, ``language`` or detected from ``texts``, with the metrics self-checked on it.

    What a study and ``study.score`` do before scoring anything: a code that is not ISO 639-1
    (named by ``setting``), or a metric that fails :func:`self_check` on ``references``, stops
    with one line (a :class:`StudyError`; ``source`` names the data).
    """
    try:
        code = language_of(language or detect_language(texts)).code
    except ValueError as exc:
        raise StudyError(f"{setting}: {exc}") from None
    check = self_check(references, code, encoder)
    if check.failure():
        raise StudyError(f"{source}: {check.failure()}")
    return code, check


def _value(metric: Metric, answers: Answers) -> float:
    """The metric over all answers: a corpus statistic from its summed rows, else the mean of its scores."""
    scores = metric.per_question(answers)
    if metric.from_rows is not None:
        return float(metric.from_rows([sum(col) for col in zip(*scores)]))
    return _mean(scores)


def _derangement(items: Sequence[str], seed: int) -> list[str]:
    """``items`` reordered so that no position keeps its own item (a seeded cycle through a permutation)."""
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    out = list(items)
    for k, i in enumerate(order):
        out[i] = items[order[(k + 1) % len(order)]]
    return out


def _fmt(value: float, perfect: float) -> str:
    return f"{value:.1f}" if perfect >= 100 else f"{value:.3f}"


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


__all__ = ["MetricCheck", "SelfCheck", "checked_language", "self_check"]
