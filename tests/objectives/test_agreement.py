"""Agreement between raters, shares and metric-against-rater correlations: hand-computed values and seeded simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from objectives._agreement import (
    cohen_kappa,
    correlation_interval,
    krippendorff_alpha,
    metric_agreement,
    rater_agreement,
    share_interval,
    wilson_interval,
)


def test_cohen_kappa_matches_the_textbook_table():
    # 50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15.
    # observed 0.7; chance 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa (0.7 - 0.5) / 0.5 = 0.4
    a = ["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_kappa_is_one_for_identical_raters_and_undefined_for_one_label():
    assert cohen_kappa([0, 1, 2, 1], [0, 1, 2, 1]) == pytest.approx(1.0)
    assert math.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa([1, 2], [1])


def test_krippendorff_alpha_matches_a_hand_computed_value():
    # Items (a,a), (a,b), (b,b), (b,b) with a=0, b=1: 8 values, 3 a and 5 b.
    # Observed disagreement 2/8 (the one split item, both orders); expected 2*3*5 / (8*7) = 30/56;
    # alpha = 1 - (2/8) / (30/56) = 8/15.
    data = np.array([[0, 0, 1, 1], [0, 1, 1, 1]], dtype=float)
    assert krippendorff_alpha(data) == pytest.approx(8 / 15)
    # the same items as kappa: observed 3/4, chance 0.5 * 0.25 + 0.5 * 0.75 = 0.5, kappa 0.5
    assert cohen_kappa([0, 0, 1, 1], [0, 1, 1, 1]) == pytest.approx(0.5)


def test_krippendorff_alpha_allows_missing_ratings_and_three_raters():
    data = np.array([[0, 1, 2, np.nan, 1], [0, 1, 2, 2, np.nan], [0, 1, 2, 2, 1]], dtype=float)
    assert krippendorff_alpha(data) == pytest.approx(1.0)
    name, interval = rater_agreement(data)
    assert name == "krippendorff_alpha" and interval.estimate == pytest.approx(1.0)


def _two_raters(rng: np.random.Generator, n: int, accuracy: float) -> np.ndarray:
    """Each rater reports an item's true label (3 classes, equally likely) with probability ``accuracy``, else a random one."""
    truth = rng.integers(0, 3, n)
    raters = []
    for _ in range(2):
        guess = rng.integers(0, 3, n)
        raters.append(np.where(rng.random(n) < accuracy, truth, guess))
    return np.array(raters, dtype=float)


def test_kappa_interval_covers_the_population_kappa():
    # Population kappa of this model: each rater right-or-lucky; labels uniform, so chance = 1/3 and
    # P(agree) = a^2 + (1 - a^2) / 3; kappa = (P - 1/3) / (2/3) = a^2.
    accuracy, n, sims = 0.8, 60, 120
    truth = accuracy ** 2
    hits = 0
    for i in range(sims):
        name, interval = rater_agreement(_two_raters(np.random.default_rng(i), n, accuracy), n_resamples=300, seed=i)
        assert name == "cohen_kappa"
        hits += interval.contains(truth)
    assert 0.88 <= hits / sims <= 0.99


def test_wilson_interval_matches_the_formula_and_stays_sensible_at_zero():
    # 0 of 30: Wilson's upper limit z^2 / (n + z^2) = 3.8415 / 33.8415 = 0.1135
    zero = wilson_interval(0, 30)
    assert zero.estimate == 0.0 and zero.low == 0.0 and zero.high == pytest.approx(0.1135, abs=1e-4)
    # 7 of 38, by hand: p 0.184211, z^2 / n 0.101091, centre (p + z^2 / 2n) / (1 + z^2 / n) = 0.213203,
    # half-width z * sqrt(p (1 - p) / n + z^2 / 4n^2) / (1 + z^2 / n) = 0.120986
    seven = wilson_interval(7, 38)
    assert (seven.low, seven.high) == pytest.approx((0.092217, 0.334189), abs=1e-5)


def test_share_interval_covers_a_known_share():
    p, n, sims = 0.2, 40, 400
    hits = sum(share_interval(np.random.default_rng(i).binomial(1, p, n)).contains(p) for i in range(sims))
    assert 0.92 <= hits / sims <= 0.985


def test_spearman_interval_estimate_matches_scipy_and_covers_zero_for_unrelated_values():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=80), rng.normal(size=80)
    interval = correlation_interval(x, y, seed=1)
    assert interval.estimate == pytest.approx(spearmanr(x, y).statistic)
    assert interval.contains(0.0)
    kendall = correlation_interval(x, x + 0.1 * rng.normal(size=80), method="kendall", n_resamples=200)
    assert kendall.low > 0.5


def test_metric_ranking_picks_the_planted_metric():
    # 120 answers of hidden quality; raters give wrong / partly / correct (0, 0.5, 1) from the quality with noise.
    # "planted" follows the quality closely, "noisy" loosely, "unrelated" not at all; "length_error"
    # falls as quality rises (a metric that improves downwards) and must be turned round, not ranked last.
    rng = np.random.default_rng(7)
    quality = rng.random(120)
    ratings = np.digitize(quality + rng.normal(0, 0.1, 120), [0.4, 0.7]) / 2.0
    metrics = {
        "planted": quality + rng.normal(0, 0.05, 120),
        "noisy": quality + rng.normal(0, 0.6, 120),
        "unrelated": rng.random(120),
        "length_error": 1 - quality + rng.normal(0, 0.3, 120),
    }
    ranking = metric_agreement({k: list(v) for k, v in metrics.items()}, list(ratings),
                               {"planted": "max", "noisy": "max", "unrelated": "max", "length_error": "min"})
    names = [m.metric for m in ranking]
    assert names[0] == "planted" and names[-1] == "unrelated"
    assert names.index("length_error") < names.index("noisy")
    by_name = {m.metric: m.correlation for m in ranking}
    assert by_name["planted"].low > by_name["noisy"].high  # the winner is clear, not a coin toss
    assert by_name["unrelated"].contains(0.0)


def test_metric_agreement_leaves_out_missing_and_constant_metrics():
    ranking = metric_agreement({"a": [0.1, None, 0.3, 0.4], "flat": [1, 1, 1, 1]}, [0, 0.5, 0.5, 1], {})
    assert [m.metric for m in ranking] == ["a"] and ranking[0].correlation.n == 3
