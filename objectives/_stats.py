"""Bootstrap intervals over per-question scores: of a mean, of a paired difference, of a corpus statistic.

Paired tests and rank correlation are in :mod:`objectives._paired_tests`, t intervals for a few
pairs in :mod:`objectives._t_intervals`; both build on the helpers here.

A study evaluates each trial on a few dozen questions, so a difference of a point or two in a
mean metric is often noise. These helpers say how much: percentile-bootstrap intervals of a
mean (or of a corpus-level statistic such as BLEU) over questions, paired intervals and a
paired Wilcoxon test for "is trial A really better than trial B on the same questions", and a
Spearman correlation for "does this cheap metric rank trials like that expensive one".

Everything here is pure: numpy arrays in, floats out. Resampling never touches global random
state; each function that resamples takes ``seed`` and draws from
``numpy.random.default_rng(seed)``, so the same inputs and seed give the same interval.
The bootstrap is vectorised: resampled question indices come as ``(n_resamples, n)`` index
matrices (in chunks, to bound memory for large ``n``). scipy is imported only inside the
functions that use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterator, Mapping, Sequence, TypeVar, Union

import numpy as np

CONFIDENCE = 0.95
N_RESAMPLES = 2000
# Corpus-level statistics are opaque Python callables evaluated once per resample: fewer
# resamples keep e.g. bootstrapped BLEU at about a second for 40 questions.
N_STATISTIC_RESAMPLES = 1000

# Upper bound on the elements of one index matrix (about 32 MiB of int64).
_CHUNK_ELEMENTS = 4_000_000

K = TypeVar("K", bound=Hashable)
# Per-question scores: any 1-D sequence of floats, one per question, in a fixed order.
Scores = Union[Sequence[float], np.ndarray]


@dataclass(frozen=True)
class Interval:
    """A point estimate with a bootstrap confidence interval over ``n`` questions."""

    estimate: float
    low: float
    high: float
    n: int
    confidence: float = CONFIDENCE

    def contains(self, x: float) -> bool:
        """Whether ``x`` lies within the closed interval ``[low, high]``."""
        return bool(self.low <= x <= self.high)

    def excludes(self, x: float) -> bool:
        """Whether ``x`` lies strictly outside the interval (False for a NaN interval)."""
        return bool(x < self.low or x > self.high)

    @property
    def half_width(self) -> float:
        """Half the interval's width: the "plus or minus" of the estimate."""
        return (self.high - self.low) / 2.0

    def to_dict(self) -> dict[str, Any]:
        """``{"estimate", "low", "high", "n"}`` as plain Python numbers; NaN/inf become None."""
        return {
            "estimate": _json_float(self.estimate),
            "low": _json_float(self.low),
            "high": _json_float(self.high),
            "n": int(self.n),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Interval:
        """Inverse of :meth:`to_dict` (None becomes NaN; ``confidence`` is optional)."""
        return cls(
            estimate=_from_json_float(d["estimate"]),
            low=_from_json_float(d["low"]),
            high=_from_json_float(d["high"]),
            n=int(d["n"]),
            confidence=float(d.get("confidence", CONFIDENCE)),
        )

    def format(self, digits: int = 3) -> str:
        """``"0.128 [0.098, 0.192]"`` with ``digits`` decimals."""
        return f"{self.estimate:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"

    def __str__(self) -> str:
        return self.format(3)


def _json_float(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _from_json_float(x: Any) -> float:
    return math.nan if x is None else float(x)


# --------------------------------------------------------------------------- validation


def _scores(values: Scores, name: str = "values") -> np.ndarray:
    """A non-empty 1-D float array of finite scores, or ValueError saying what is wrong."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence of per-question scores, got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty: need at least one per-question score")
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(f"{bad} of {arr.size} {name} are NaN or infinite")
    return arr


def _pair(a: Scores, b: Scores) -> tuple[np.ndarray, np.ndarray]:
    """Two validated score arrays of equal length (the same questions, in the same order)."""
    a_arr, b_arr = _scores(a, "a"), _scores(b, "b")
    if a_arr.size != b_arr.size:
        raise ValueError(
            f"paired scores need the same questions: a has {a_arr.size} values, b has {b_arr.size}"
        )
    return a_arr, b_arr


def _check_settings(confidence: float, n_resamples: int) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    if int(n_resamples) != n_resamples or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples}")


def _check_n(n: int) -> int:
    if int(n) != n or n < 1:
        raise ValueError(f"n (the number of questions) must be a positive integer, got {n}")
    return int(n)


# --------------------------------------------------------------------------- bootstrap core


def _index_chunks(n: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Resampled question indices as ``(rows, n)`` matrices, ``n_resamples`` rows in total.

    Chunked so memory stays bounded for large ``n``; for the usual few dozen questions this
    is a single ``(n_resamples, n)`` matrix. The same ``(n, n_resamples, seed)`` always yields
    the same indices, which is what makes the paired and statistic variants line up.
    """
    rng = np.random.default_rng(seed)
    rows = max(1, _CHUNK_ELEMENTS // n)
    done = 0
    while done < n_resamples:
        k = min(rows, n_resamples - done)
        yield rng.integers(0, n, size=(k, n))
        done += k


def _percentiles(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = 1.0 - confidence
    low, high = np.quantile(replicates, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)


def _bootstrap_mean(values: np.ndarray, confidence: float, n_resamples: int, seed: int) -> Interval:
    n = values.size
    estimate = float(values.mean())
    if n == 1:
        return Interval(estimate, estimate, estimate, 1, confidence)
    chunks = _index_chunks(n, n_resamples, seed)
    means = np.concatenate([values[idx].mean(axis=1) for idx in chunks])
    low, high = _percentiles(means, confidence)
    # Guard against float rounding putting the estimate a hair outside a degenerate interval.
    return Interval(estimate, min(low, estimate), max(high, estimate), n, confidence)


# --------------------------------------------------------------------------- public API


def mean_interval(
    values: Scores,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> Interval:
    """Percentile-bootstrap interval of the mean score over questions.

    Questions are resampled with replacement, so the interval reflects how much the mean
    would move on another draw of questions like these. One question gives a zero-width
    interval (``low == high == estimate``): there is nothing to resample. Empty input and
    NaN/infinite scores raise ValueError (the message counts the bad values) rather than
    silently producing a NaN interval.
    """
    _check_settings(confidence, n_resamples)
    return _bootstrap_mean(_scores(values), confidence, int(n_resamples), seed)


def paired_difference(
    a: Scores,
    b: Scores,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> Interval:
    """Interval of ``mean(a - b)`` with a paired bootstrap over questions.

    ``a[i]`` and ``b[i]`` must be scores of the same question. Each resample draws question
    indices once and uses them for both, so question difficulty (shared by a and b) cancels
    out: far narrower than comparing two separate mean intervals when a and b are correlated.
    Lengths must match (ValueError giving both).
    """
    _check_settings(confidence, n_resamples)
    a_arr, b_arr = _pair(a, b)
    # Resampling the same indices of a and b is exactly resampling the differences.
    return _bootstrap_mean(a_arr - b_arr, confidence, int(n_resamples), seed)


def statistic_interval(
    n: int,
    statistic: Callable[[np.ndarray], float],
    confidence: float = CONFIDENCE,
    n_resamples: int = N_STATISTIC_RESAMPLES,
    seed: int = 0,
) -> Interval:
    """Bootstrap interval of a corpus-level statistic (e.g. BLEU) over ``n`` questions.

    ``statistic(indices)`` computes the metric on the questions at ``indices`` (an int array,
    repeats allowed); it is evaluated on ``np.arange(n)`` for the estimate and on each
    resample. The statistic is opaque, so this loops over resamples in Python (hence the
    lower default ``n_resamples``). It draws the same indices as :func:`mean_interval` for
    the same ``(n, n_resamples, seed)``. A statistic returning NaN raises ValueError.
    """
    _check_settings(confidence, n_resamples)
    n = _check_n(n)
    estimate = float(statistic(np.arange(n)))
    if not math.isfinite(estimate):
        raise ValueError(
            f"statistic is NaN or infinite ({estimate}) on the full set of {n} questions"
        )
    if n == 1:
        return Interval(estimate, estimate, estimate, 1, confidence)
    reps = np.array(
        [float(statistic(row)) for idx in _index_chunks(n, int(n_resamples), seed) for row in idx]
    )
    return _statistic_result(estimate, reps, n, confidence)


def paired_statistic_difference(
    n: int,
    statistic_a: Callable[[np.ndarray], float],
    statistic_b: Callable[[np.ndarray], float],
    confidence: float = CONFIDENCE,
    n_resamples: int = N_STATISTIC_RESAMPLES,
    seed: int = 0,
) -> Interval:
    """Interval of ``statistic_a - statistic_b`` for two corpus-level metrics on the same questions.

    Both statistics are evaluated on the same resampled indices (a paired bootstrap), e.g.
    BLEU of a tuned model minus BLEU of the base model on the same questions.
    """
    _check_settings(confidence, n_resamples)
    n = _check_n(n)
    full = np.arange(n)
    estimate = float(statistic_a(full)) - float(statistic_b(full))
    if not math.isfinite(estimate):
        raise ValueError(
            f"statistic difference is NaN or infinite ({estimate}) on the full set of {n} questions"
        )
    if n == 1:
        return Interval(estimate, estimate, estimate, 1, confidence)
    reps = np.array(
        [
            float(statistic_a(row)) - float(statistic_b(row))
            for idx in _index_chunks(n, int(n_resamples), seed)
            for row in idx
        ]
    )
    return _statistic_result(estimate, reps, n, confidence)


def _statistic_result(estimate: float, reps: np.ndarray, n: int, confidence: float) -> Interval:
    bad = int(np.count_nonzero(~np.isfinite(reps)))
    if bad:
        raise ValueError(f"statistic was NaN or infinite on {bad} of {reps.size} resamples")
    low, high = _percentiles(reps, confidence)
    return Interval(estimate, low, high, n, confidence)

