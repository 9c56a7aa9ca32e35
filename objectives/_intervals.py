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

from objectives._membership import membership_statistic
from objectives._objectives import METRICS
from objectives._paired_tests import gain_summary
from objectives._stats import (
    CONFIDENCE,
    Interval,
    mean_interval,
    paired_statistic_difference,
    statistic_interval,
)
from objectives._text import bleu_from_stats

BLEU_STATS = "bleu_stats"  # per-question key of BLEU's counts; the metric itself is "bleu"
MEMBERSHIP_AUC = "membership_auc"  # its rows: [training sum, tokens, held-out sum, tokens] (objectives._membership)
STATS_SUFFIX = "_stats"  # "eval_loss_stats": per question [summed log-probability, answer tokens] of "eval_loss"


def stats_key(metric: str) -> str:
    """The per-question key of a corpus-level metric's rows: ``eval_loss`` -> ``eval_loss_stats``."""
    return metric + STATS_SUFFIX


def _bleu_of(stats: np.ndarray):
    return lambda idx: bleu_from_stats(stats[idx].sum(axis=0))


def _loss_of(stats: np.ndarray):
    """Mean cross-entropy per answer token of the questions at ``idx``: a ratio, not a mean of questions."""
    return lambda idx: -float(stats[idx, 0].sum()) / max(float(stats[idx, 1].sum()), 1.0)


def _statistics(per_question: Mapping[str, Sequence[Any]]) -> dict[str, tuple[np.ndarray, Any]]:
    """Corpus-level metrics stored as per-question rows: metric -> (rows, statistic of an index array)."""
    out = {}
    for key, rows in per_question.items():
        if not key.endswith(STATS_SUFFIX) or not rows:
            continue
        metric = key[: -len(STATS_SUFFIX)]
        if key == BLEU_STATS:
            table = np.asarray(rows, dtype=np.int64)
            out[metric] = (table, _bleu_of(table))
        elif metric == MEMBERSHIP_AUC:  # rows of a training and a held-out pair: an AUC, not a mean
            table = np.asarray(rows, dtype=np.float64)
            out[metric] = (table, membership_statistic(table))
        elif metric.endswith("loss"):
            table = np.asarray(rows, dtype=np.float64)
            if table.shape[1] == 4:  # [base sum, base tokens, tuned sum, tuned tokens]: a paired drop in loss
                base, tuned = _loss_of(table[:, :2]), _loss_of(table[:, 2:])
                out[metric] = (table, lambda idx, base=base, tuned=tuned: base(idx) - tuned(idx))
            else:
                out[metric] = (table, _loss_of(table))
    return out


def knowledge_gain(tuned: Mapping[str, Sequence[Any]], base: Mapping[str, Sequence[Any]],
                   kind: str = "seen") -> tuple[dict[str, float], dict[str, list]]:
    """What a trial learned of the facts it was shown, over the base model, on the same probes.

    ``knowledge_gain``: probe ROUGE-L minus the base model's, per probe (its interval is a
    paired one); ``knowledge_gain_loss``: the base model's loss per answer token minus the
    trial's (positive: the reference answers became likelier), with the two evaluations'
    rows side by side so that its bootstrap is paired too. Empty where either lacks the probes.
    """
    rouge, loss = f"probe_{kind}_rougeL", stats_key(f"probe_{kind}_loss")
    metrics: dict[str, float] = {}
    items: dict[str, list] = {}
    if rouge in tuned and rouge in base and len(tuned[rouge]) == len(base[rouge]) and tuned[rouge]:
        items["knowledge_gain"] = [float(t) - float(b) for t, b in zip(tuned[rouge], base[rouge])]
        metrics["knowledge_gain"] = float(np.mean(items["knowledge_gain"]))
    if loss in tuned and loss in base and len(tuned[loss]) == len(base[loss]) and tuned[loss]:
        rows = [[*b, *t] for b, t in zip(base[loss], tuned[loss])]
        items[stats_key("knowledge_gain_loss")] = rows
        metrics["knowledge_gain_loss"] = float(_statistics({stats_key("knowledge_gain_loss"): rows})
                                               ["knowledge_gain_loss"][1](np.arange(len(rows))))
    return metrics, items


def _series(per_question: Mapping[str, Sequence[Any]]) -> dict[str, list[float]]:
    """The per-question metrics that are means (all but the corpus-level rows), with finite values only."""
    out = {}
    for metric, values in per_question.items():
        if metric.endswith(STATS_SUFFIX) or not values:
            continue
        if all(isinstance(v, (int, float)) and np.isfinite(v) for v in values):
            out[metric] = [float(v) for v in values]
    return out


def interval_table(per_question: Mapping[str, Sequence[Any]], seed: int = 0) -> dict[str, Interval]:
    """A 95 % bootstrap interval for every metric of one evaluation."""
    table = {metric: mean_interval(values, seed=seed) for metric, values in _series(per_question).items()}
    for metric, (rows, statistic) in _statistics(per_question).items():
        table[metric] = statistic_interval(len(rows), statistic, seed=seed)
    return table


def gain_table(tuned: Mapping[str, Sequence[Any]], base: Mapping[str, Sequence[Any]], metrics: Sequence[str],
               seed: int = 0) -> dict[str, dict[str, Any]]:
    """``tuned − base`` for each of ``metrics`` both evaluations scored per question.

    Each entry is :func:`objectives.gain_summary`'s (``base``, ``tuned``, ``gain``,
    ``gain_ci95``, ``p_value``, ``questions``, ``significant``); ``significant`` means the
    interval lies on the better side of 0 for the metric's direction. BLEU's p-value is None:
    a corpus statistic (BLEU, a loss per answer token) has no per-question differences for a
    signed-rank test. Metrics the two evaluations did not both score on the same number of
    questions are left out.
    """
    out: dict[str, dict[str, Any]] = {}
    tuned_series, base_series = _series(tuned), _series(base)
    tuned_stats, base_stats = _statistics(tuned), _statistics(base)
    for metric in metrics:
        direction = "maximize" if METRICS.get(metric, "max") == "max" else "minimize"
        if metric in tuned_series and metric in base_series and len(tuned_series[metric]) == len(base_series[metric]):
            out[metric] = gain_summary(tuned_series[metric], base_series[metric], direction=direction, seed=seed)
        elif metric in tuned_stats and metric in base_stats and len(tuned_stats[metric][0]) == len(base_stats[metric][0]):
            out[metric] = _statistic_gain(tuned_stats[metric], base_stats[metric], direction, seed)
    return out


def _statistic_gain(tuned: tuple[np.ndarray, Any], base: tuple[np.ndarray, Any], direction: str,
                    seed: int) -> dict[str, Any]:
    n = len(tuned[0])
    diff = paired_statistic_difference(n, tuned[1], base[1], seed=seed)
    base_value = base[1](np.arange(n))
    better = diff.low > 0 if direction == "maximize" else diff.high < 0
    return {"base": base_value, "tuned": base_value + diff.estimate, "gain": diff.estimate,
            "gain_ci95": [diff.low, diff.high], "p_value": None, "questions": int(n), "significant": bool(better)}


__all__ = ["BLEU_STATS", "CONFIDENCE", "STATS_SUFFIX", "gain_table", "interval_table", "knowledge_gain", "stats_key"]
