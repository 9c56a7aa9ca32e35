"""Paired tests on the same questions: the Wilcoxon signed-rank test, Spearman's rank correlation, which
trials are indistinguishable from the best, and the gain of a tuned model over the base model.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Mapping

import numpy as np

from objectives._stats import (
    CONFIDENCE,
    N_RESAMPLES,
    K,
    Scores,
    _bootstrap_mean,
    _check_settings,
    _json_float,
    _pair,
    _scores,
)


def wilcoxon_p(a: Scores, b: Scores) -> float:
    """Two-sided paired Wilcoxon signed-rank p-value for ``a`` vs ``b`` on the same questions.

    Behaviour at the edges:

    - empty input, NaN scores or unequal lengths raise ValueError (as the intervals do);
    - a single question gives NaN: no test is possible (callers report "not tested");
    - all differences zero give 1.0: the data show no difference at all.

    Zero differences (questions both score alike, common for exact match or token F1) are
    handled with ``zero_method="zsplit"``: their ranks are split between the positive and
    negative sides, so they count as evidence of "no difference" and stay in the sample size.
    The default "wilcox" drops them, which tests only the questions where the two differ and
    can call 3 wins out of 40 questions significant; "zsplit" is more conservative and
    agrees with the paired bootstrap, which also keeps every question.
    """
    a_arr, b_arr = _pair(a, b)
    if a_arr.size < 2:
        return math.nan
    d = a_arr - b_arr
    if not np.any(d != 0):
        return 1.0
    if d.size <= EXACT_MAX:
        return _exact_p(d)
    from scipy.stats import wilcoxon

    with warnings.catch_warnings():
        # Small-sample / ties notes from scipy are expected here and not actionable.
        warnings.simplefilter("ignore")
        result = wilcoxon(d, zero_method="zsplit", alternative="two-sided")
    return float(result.pvalue)


# Up to this many questions the p-value comes from all 2**n sign flips, as scipy's own test gives it
# (its exact distribution, or with ties or zeros its permutation test); above, scipy's own choice.
EXACT_MAX = 13


def _exact_p(d: np.ndarray) -> float:
    """The two-sided p-value over every sign flip of the differences ``d``, computed in one array.

    scipy's ``wilcoxon`` gives the same value for ties or zeros at ``n <= 13``, but evaluates its
    statistic once per flip in Python (8192 calls at 13 questions); this is one
    vectorised ``permutation_test``.
    """
    from scipy.stats import permutation_test

    def r_plus(x: np.ndarray, axis: int = -1) -> np.ndarray:  # zsplit: a zero's rank is half each side's
        from scipy.stats import rankdata

        ranks = rankdata(np.abs(x), axis=axis)
        return np.sum((x > 0) * ranks, axis=axis) + np.sum((x == 0) * ranks, axis=axis) / 2

    result = permutation_test((d,), r_plus, permutation_type="samples", vectorized=True, n_resamples=9999,
                              alternative="two-sided", axis=-1)
    return float(result.pvalue)


def spearman(x: Scores, y: Scores) -> float:
    """Spearman rank correlation of paired values (e.g. two metrics across trials).

    NaN when there are fewer than 3 pairs or either input is constant (a rank correlation is
    undefined there); scipy's ConstantInputWarning is not leaked. Unequal lengths and NaN
    values raise ValueError.
    """
    x_arr, y_arr = _pair(x, y)
    if x_arr.size < 3 or np.ptp(x_arr) == 0 or np.ptp(y_arr) == 0:
        return math.nan
    from scipy.stats import spearmanr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho = spearmanr(x_arr, y_arr).statistic
    return float(rho)


def indistinguishable(
    best: Scores,
    others: Mapping[K, Scores],
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> set[K]:
    """Keys of ``others`` whose paired interval of ``best - other`` contains 0.

    Used to mark trials that are not distinguishable from the best one on these questions.
    Every comparison uses the same ``seed`` (hence the same resampled questions), so a key's
    membership does not depend on the order or the other entries of ``others``.
    """
    _check_settings(confidence, n_resamples)
    best_arr = _scores(best, "best")
    out: set[K] = set()
    for key, scores in others.items():
        other = _scores(scores, f"scores of {key!r}")
        if other.size != best_arr.size:
            raise ValueError(
                f"paired scores need the same questions: best has {best_arr.size} values, "
                f"{key!r} has {other.size}"
            )
        if _bootstrap_mean(best_arr - other, confidence, int(n_resamples), seed).contains(0.0):
            out.add(key)
    return out


def gain_summary(
    tuned: Scores,
    base: Scores,
    direction: str = "maximize",
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """How much a tuned model gains over the base model on the same questions, and is it real.

    Returns ``{"base", "tuned", "gain", "gain_ci95", "p_value", "questions", "significant"}``:
    mean scores, ``gain = tuned - base`` with its paired-bootstrap interval ``[low, high]``,
    the Wilcoxon p-value (None when undefined, i.e. a single question), the number of
    questions, and whether the interval excludes 0 on the better side (``low > 0`` for
    ``direction="maximize"``, ``high < 0`` for ``"minimize"``, e.g. a length error). The key
    is ``gain_ci95`` whatever ``confidence`` is. All values are JSON-safe Python types.
    """
    if direction not in ("maximize", "minimize"):
        raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    _check_settings(confidence, n_resamples)
    tuned_arr, base_arr = _pair(tuned, base)
    gain = _bootstrap_mean(tuned_arr - base_arr, confidence, int(n_resamples), seed)
    p = wilcoxon_p(tuned_arr, base_arr)
    significant = gain.low > 0 if direction == "maximize" else gain.high < 0
    return {
        "base": float(base_arr.mean()),
        "tuned": float(tuned_arr.mean()),
        "gain": float(tuned_arr.mean() - base_arr.mean()),
        "gain_ci95": [gain.low, gain.high],
        "p_value": _json_float(p),
        "questions": int(tuned_arr.size),
        "significant": bool(significant),
    }
