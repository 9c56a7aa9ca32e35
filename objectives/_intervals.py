"""Intervals and gains of whole evaluations, from their per-question scores.

An evaluation's per-question scores are a mapping ``metric -> list`` in validation order
(what a trial stores as its ``per_question`` user attribute). Every per-question metric gets
a bootstrap interval of its mean; corpus BLEU, which is not a mean, is stored as the counts it
sums per answer (``bleu_stats``) and gets an interval by resampling those rows. A gain is the
paired difference of two evaluations on the same questions.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from objectives._objectives import METRICS
from objectives._stats import (
    CONFIDENCE,
    Interval,
    gain_summary,
    mean_interval,
    paired_statistic_difference,
    statistic_interval,
)
from objectives._text import bleu_from_stats

BLEU_STATS = "bleu_stats"  # per-question key of BLEU's counts; the metric itself is "bleu"


def _bleu_of(stats: np.ndarray):
    return lambda idx: bleu_from_stats(stats[idx].sum(axis=0))


def _series(per_question: Mapping[str, Sequence[Any]]) -> dict[str, list[float]]:
    """The per-question metrics that are means (all but BLEU's counts), with finite values only."""
    out = {}
    for metric, values in per_question.items():
        if metric == BLEU_STATS or not values:
            continue
        if all(isinstance(v, (int, float)) and np.isfinite(v) for v in values):
            out[metric] = [float(v) for v in values]
    return out


def interval_table(per_question: Mapping[str, Sequence[Any]], seed: int = 0) -> dict[str, Interval]:
    """A 95 % bootstrap interval for every metric of one evaluation."""
    table = {metric: mean_interval(values, seed=seed) for metric, values in _series(per_question).items()}
    stats = per_question.get(BLEU_STATS)
    if stats:
        rows = np.asarray(stats, dtype=np.int64)
        table["bleu"] = statistic_interval(len(rows), _bleu_of(rows), seed=seed)
    return table


def gain_table(tuned: Mapping[str, Sequence[Any]], base: Mapping[str, Sequence[Any]], metrics: Sequence[str],
               seed: int = 0) -> dict[str, dict[str, Any]]:
    """``tuned − base`` for each of ``metrics`` both evaluations scored per question.

    Each entry is :func:`objectives.gain_summary`'s (``base``, ``tuned``, ``gain``,
    ``gain_ci95``, ``p_value``, ``questions``, ``significant``); ``significant`` means the
    interval lies on the better side of 0 for the metric's direction. BLEU's p-value is None:
    a corpus statistic has no per-question differences for a signed-rank test. Metrics the
    two evaluations did not both score on the same number of questions are left out.
    """
    out: dict[str, dict[str, Any]] = {}
    tuned_series, base_series = _series(tuned), _series(base)
    for metric in metrics:
        direction = "maximize" if METRICS.get(metric, "max") == "max" else "minimize"
        if metric in tuned_series and metric in base_series and len(tuned_series[metric]) == len(base_series[metric]):
            out[metric] = gain_summary(tuned_series[metric], base_series[metric], direction=direction, seed=seed)
        elif metric == "bleu" and tuned.get(BLEU_STATS) and base.get(BLEU_STATS) \
                and len(tuned[BLEU_STATS]) == len(base[BLEU_STATS]):
            out[metric] = _bleu_gain(np.asarray(tuned[BLEU_STATS]), np.asarray(base[BLEU_STATS]), seed)
    return out


def _bleu_gain(tuned: np.ndarray, base: np.ndarray, seed: int) -> dict[str, Any]:
    diff = paired_statistic_difference(len(tuned), _bleu_of(tuned), _bleu_of(base), seed=seed)
    base_bleu = bleu_from_stats(base.sum(axis=0))
    return {"base": base_bleu, "tuned": base_bleu + diff.estimate, "gain": diff.estimate,
            "gain_ci95": [diff.low, diff.high], "p_value": None, "questions": int(len(tuned)),
            "significant": bool(diff.low > 0)}


__all__ = ["BLEU_STATS", "CONFIDENCE", "gain_table", "interval_table"]
