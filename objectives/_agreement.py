"""Statistics of human ratings: agreement between raters, shares with intervals, metrics against raters.

Clinicians rate answers on a small rubric (correct / partly correct / wrong, harmful or not,
length). Three questions follow, each answered here with an interval:

- **Do the raters agree?** Cohen's kappa for two raters, Krippendorff's alpha (the
  ``krippendorff`` package) for more or for missing ratings; the interval is a percentile
  bootstrap over the rated items (an item is one answer, rated by every rater).
- **How often is a configuration right, or harmful?** A share with a Wilson score interval,
  which stays sensible at 0 of 30 (a bootstrap over 30 zeros would give [0, 0]).
- **Which automatic metric agrees with the raters?** Spearman (or Kendall) correlation over
  the rated answers between each metric and the mean rating, with a bootstrap interval; a
  metric that improves downwards (length error) is turned round first, so that higher means
  "agrees" for every metric and they rank on one scale.

Pure functions, numpy in and :class:`Interval` out; resampling takes a ``seed``. Paired
differences against the base model reuse :func:`objectives._stats.paired_difference`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Hashable, Mapping, Sequence

import numpy as np

from objectives._stats import CONFIDENCE, N_STATISTIC_RESAMPLES, Interval, _index_chunks, _percentiles

#: Fewer than this many items give no agreement or correlation interval (nothing to resample).
MIN_ITEMS = 3


@dataclass(frozen=True)
class MetricAgreement:
    """How one automatic metric agrees with the raters over the rated answers."""

    metric: str
    correlation: Interval  # turned round for metrics that improve downwards: higher = agrees
    method: str  # "spearman" or "kendall"

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "method": self.method, **self.correlation.to_dict()}


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two raters' labels on the same items: (observed - chance) / (1 - chance).

    NaN where chance agreement is 1 (both raters gave one and the same label to every item:
    agreement is then not measurable, not perfect).
    """
    if len(a) != len(b):
        raise ValueError(f"kappa needs both raters on the same items: {len(a)} and {len(b)} labels")
    if not a:
        raise ValueError("kappa needs at least one rated item")
    n = len(a)
    labels = sorted(set(a) | set(b), key=str)
    observed = sum(x == y for x, y in zip(a, b)) / n
    chance = sum((list(a).count(k) / n) * (list(b).count(k) / n) for k in labels)
    if chance >= 1.0:
        return math.nan
    return (observed - chance) / (1.0 - chance)


def krippendorff_alpha(ratings: np.ndarray, level: str = "nominal") -> float:
    """Krippendorff's alpha of a (raters, items) array of numeric labels, NaN where a rater left an item out."""
    import krippendorff

    data = np.asarray(ratings, dtype=float)
    if data.ndim != 2 or data.shape[0] < 2:
        raise ValueError(f"alpha needs a (raters, items) array with at least two raters, got shape {data.shape}")
    values = data[~np.isnan(data)]
    if np.unique(values).size < 2:
        return math.nan  # one label only: krippendorff raises; agreement is not measurable
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement=level))


def rater_agreement(ratings: np.ndarray, level: str = "nominal", n_resamples: int = N_STATISTIC_RESAMPLES,
                    seed: int = 0, confidence: float = CONFIDENCE) -> tuple[str, Interval]:
    """Agreement of a (raters, items) array with a bootstrap interval over items.

    Two raters who rated every item: Cohen's kappa; otherwise Krippendorff's alpha at
    ``level``. Resamples where the statistic is undefined (one label only) are left out;
    fewer than :data:`MIN_ITEMS` items give a NaN interval.
    """
    data = np.asarray(ratings, dtype=float)
    two = data.shape[0] == 2 and not np.isnan(data).any()
    name = "cohen_kappa" if two else "krippendorff_alpha"

    def statistic(columns: np.ndarray) -> float:
        sub = data[:, columns]
        return cohen_kappa(list(sub[0]), list(sub[1])) if two else krippendorff_alpha(sub, level)

    n = data.shape[1]
    return name, _bootstrap(n, statistic, n_resamples, seed, confidence)


def _bootstrap(n: int, statistic: Any, n_resamples: int, seed: int, confidence: float) -> Interval:
    """Percentile bootstrap of an item-level statistic; undefined resamples are dropped."""
    estimate = float(statistic(np.arange(n))) if n else math.nan
    if n < MIN_ITEMS or not math.isfinite(estimate):
        return Interval(estimate, math.nan, math.nan, n, confidence)
    reps = np.array([float(statistic(row)) for idx in _index_chunks(n, n_resamples, seed) for row in idx])
    reps = reps[np.isfinite(reps)]
    if reps.size < n_resamples / 2:  # mostly undefined: an interval would claim more than the data hold
        return Interval(estimate, math.nan, math.nan, n, confidence)
    low, high = _percentiles(reps, confidence)
    return Interval(estimate, min(low, estimate), max(high, estimate), n, confidence)


def wilson_interval(successes: float, n: int, confidence: float = CONFIDENCE) -> Interval:
    """Wilson score interval of a share ``successes / n``.

    ``successes`` may be fractional (several raters' mean per item): the interval then treats
    the items as the trials, which is slightly wide where raters disagree little.
    """
    if n < 1:
        raise ValueError(f"a share needs at least one item, got n={n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, n], got {successes} of {n}")
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2.0))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), n, confidence)


def share_interval(per_question: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """The share of items with a property (each item's value in [0, 1]: one rater's 0/1 or raters' mean)."""
    values = np.asarray(per_question, dtype=float)
    return wilson_interval(float(values.sum()), int(values.size), confidence)


def _ranks(matrix: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(matrix, axis=-1)


def _spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rho of each row pair of two (rows, n) arrays (average ranks for ties); NaN for a constant row."""
    rx, ry = _ranks(x), _ranks(y)
    rx = rx - rx.mean(axis=1, keepdims=True)
    ry = ry - ry.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis=1) / np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))


def correlation_interval(x: Sequence[float], y: Sequence[float], method: str = "spearman",
                         n_resamples: int = N_STATISTIC_RESAMPLES, seed: int = 0,
                         confidence: float = CONFIDENCE) -> Interval:
    """Rank correlation of paired values with a bootstrap interval over the pairs."""
    if method not in ("spearman", "kendall"):
        raise ValueError(f"method must be 'spearman' or 'kendall', got {method!r}")
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise ValueError(f"correlation needs two equal 1-D sequences, got {xa.shape} and {ya.shape}")
    if method == "spearman":
        def statistic(idx: np.ndarray) -> float:
            return float(_spearman_rows(xa[idx][None, :], ya[idx][None, :])[0])
    else:
        from scipy.stats import kendalltau

        def statistic(idx: np.ndarray) -> float:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return float(kendalltau(xa[idx], ya[idx]).statistic)
    return _bootstrap(xa.size, statistic, n_resamples, seed, confidence)


def metric_agreement(metrics: Mapping[str, Sequence[float | None]], ratings: Sequence[float],
                     directions: Mapping[str, str], method: str = "spearman", seed: int = 0
                     ) -> list[MetricAgreement]:
    """Each metric's rank correlation with the mean rating per answer, best-agreeing first.

    ``metrics[name][i]`` and ``ratings[i]`` belong to the same answer; an answer without a
    score for a metric is left out of that metric. A metric whose direction is ``min`` is
    negated, so every correlation reads "higher = ranks answers as the raters do". Metrics
    with fewer than :data:`MIN_ITEMS` scored answers, or constant, are left out.
    """
    out = []
    for name, values in metrics.items():
        pairs = [(float(v), float(r)) for v, r in zip(values, ratings, strict=True)
                 if isinstance(v, (int, float)) and math.isfinite(v) and math.isfinite(r)]
        if len(pairs) < MIN_ITEMS or len({p[0] for p in pairs}) < 2 or len({p[1] for p in pairs}) < 2:
            continue
        sign = -1.0 if directions.get(name, "max") in ("min", "minimize") else 1.0
        x = [sign * p[0] for p in pairs]
        out.append(MetricAgreement(name, correlation_interval(x, [p[1] for p in pairs], method, seed=seed), method))
    return sorted(out, key=lambda m: (-_or_low(m.correlation.estimate), m.metric))


def _or_low(x: float) -> float:
    return x if math.isfinite(x) else -math.inf
