"""Statistics over per-question scores, checked on seeded simulations with known answers."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from objectives._paired_tests import gain_summary, indistinguishable, spearman, wilcoxon_p
from objectives._stats import (
    CONFIDENCE,
    N_RESAMPLES,
    Interval,
    mean_interval,
    paired_difference,
    paired_statistic_difference,
    statistic_interval,
)

N_QUESTIONS = 38


def _coverage(draw, true_mean: float, sims: int = 400) -> float:
    hits = 0
    for i in range(sims):
        values = draw(np.random.default_rng(1000 + i))
        hits += mean_interval(values, seed=i).contains(true_mean)
    return hits / sims


def test_defaults():
    assert CONFIDENCE == 0.95
    assert N_RESAMPLES == 2000


def test_mean_interval_covers_a_known_normal_mean_about_95_percent_of_the_time():
    coverage = _coverage(lambda rng: rng.normal(0.4, 0.15, N_QUESTIONS), 0.4)
    assert 0.90 <= coverage <= 0.985


def test_mean_interval_covers_a_known_bernoulli_mean_about_95_percent_of_the_time():
    # Exact-match-like scores: each question right (1) or wrong (0) with probability 0.3.
    coverage = _coverage(lambda rng: rng.binomial(1, 0.3, N_QUESTIONS).astype(float), 0.3)
    assert 0.90 <= coverage <= 0.985


def test_interval_narrows_as_one_over_sqrt_n():
    def mean_width(n: int) -> float:
        rngs = [np.random.default_rng(i) for i in range(60)]
        widths = [mean_interval(r.normal(0, 1, n), seed=i).half_width for i, r in enumerate(rngs)]
        return float(np.mean(widths))

    ratio = mean_width(16) / mean_width(64)
    assert 1.75 <= ratio <= 2.25  # sqrt(64 / 16) = 2


def _paired_scores(rng: np.random.Generator, effect: float, n: int = N_QUESTIONS):
    """Question difficulty shared by a and b, plus per-answer noise; a - b has SD 1."""
    difficulty = rng.normal(0, 2, n)
    a = difficulty + rng.normal(0, math.sqrt(0.5), n) + effect
    b = difficulty + rng.normal(0, math.sqrt(0.5), n)
    return a, b


def test_paired_difference_and_wilcoxon_detect_a_planted_difference():
    detected = 0
    for i in range(200):
        a, b = _paired_scores(np.random.default_rng(i), effect=0.8)
        interval = paired_difference(a, b, seed=i)
        detected += interval.excludes(0.0) and interval.low > 0 and wilcoxon_p(a, b) < 0.05
    assert detected / 200 >= 0.90


def test_paired_difference_and_wilcoxon_rarely_detect_a_null_difference():
    false_intervals = false_tests = 0
    for i in range(400):
        a, b = _paired_scores(np.random.default_rng(5000 + i), effect=0.0)
        false_intervals += paired_difference(a, b, seed=i).excludes(0.0)
        false_tests += wilcoxon_p(a, b) < 0.05
    assert false_intervals / 400 <= 0.08
    assert false_tests / 400 <= 0.08


def test_pairing_matters_for_strongly_correlated_scores():
    rng = np.random.default_rng(7)
    b = rng.uniform(0.2, 0.8, N_QUESTIONS)
    a = b + 0.02 + rng.normal(0, 0.005, N_QUESTIONS)
    paired = paired_difference(a, b)
    assert paired.low > 0
    ia, ib = mean_interval(a), mean_interval(b)
    assert ia.low <= ib.high and ib.low <= ia.high  # the unpaired intervals overlap
    assert paired.half_width < ia.half_width / 5


def _triple(interval: Interval) -> tuple[float, float, float]:
    return interval.estimate, interval.low, interval.high


def test_statistic_interval_of_the_mean_matches_mean_interval():
    values = np.random.default_rng(3).normal(0.5, 0.2, 40)
    expected = mean_interval(values)
    # Same (n, n_resamples, seed): the very same resampled questions.
    same = statistic_interval(40, lambda idx: values[idx].mean(), n_resamples=N_RESAMPLES)
    assert _triple(same) == pytest.approx(_triple(expected))
    # Default (fewer) resamples: close, not identical.
    default = statistic_interval(40, lambda idx: values[idx].mean())
    assert default.estimate == pytest.approx(expected.estimate)
    assert default.low == pytest.approx(expected.low, abs=0.15 * expected.half_width)
    assert default.high == pytest.approx(expected.high, abs=0.15 * expected.half_width)
    assert default.n == 40


def test_statistic_interval_handles_a_corpus_level_ratio():
    # A micro-averaged statistic (sum of matches / sum of lengths), like corpus BLEU's counts.
    rng = np.random.default_rng(11)
    lengths = rng.integers(5, 30, 40).astype(float)
    matches = np.floor(lengths * rng.uniform(0.2, 0.6, 40))
    interval = statistic_interval(40, lambda idx: matches[idx].sum() / lengths[idx].sum())
    assert interval.estimate == pytest.approx(matches.sum() / lengths.sum())
    assert interval.low < interval.estimate < interval.high
    assert 0.2 < interval.low and interval.high < 0.6


def test_paired_statistic_difference_of_means_matches_paired_difference():
    a, b = _paired_scores(np.random.default_rng(4), effect=0.5, n=30)
    expected = paired_difference(a, b)
    got = paired_statistic_difference(
        30, lambda idx: a[idx].mean(), lambda idx: b[idx].mean(), n_resamples=N_RESAMPLES
    )
    assert _triple(got) == pytest.approx(_triple(expected))


def test_same_seed_same_interval_other_seed_slightly_different():
    values = np.random.default_rng(9).normal(0, 1, 40)
    first, again = mean_interval(values, seed=1), mean_interval(values, seed=1)
    other = mean_interval(values, seed=2)
    assert first == again
    assert (other.low, other.high) != (first.low, first.high)
    assert other.estimate == first.estimate
    assert abs(other.low - first.low) < 0.1 * first.half_width
    assert abs(other.high - first.high) < 0.1 * first.half_width
    a, b = values, values + np.random.default_rng(10).normal(0.1, 0.3, 40)
    assert paired_difference(a, b, seed=5) == paired_difference(a, b, seed=5)


def test_single_question_gives_a_zero_width_interval():
    interval = mean_interval([0.7])
    assert interval.low == interval.high == interval.estimate == pytest.approx(0.7)
    assert interval.n == 1
    assert statistic_interval(1, lambda idx: 3.0) == Interval(3.0, 3.0, 3.0, 1)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="empty"):
        mean_interval([])
    with pytest.raises(ValueError, match="2 of 5"):
        mean_interval([0.1, float("nan"), 0.3, float("nan"), 0.5])
    with pytest.raises(ValueError, match=r"3 values.*2"):
        paired_difference([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="1-D"):
        mean_interval([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="confidence"):
        mean_interval([1.0, 2.0], confidence=95)
    with pytest.raises(ValueError, match="n_resamples"):
        mean_interval([1.0, 2.0], n_resamples=0)
    with pytest.raises(ValueError, match="n "):
        statistic_interval(0, lambda idx: 0.0)
    with pytest.raises(ValueError, match="NaN"):
        statistic_interval(5, lambda idx: float("nan"))
    with pytest.raises(ValueError, match="direction"):
        gain_summary([1.0, 2.0], [1.0, 2.0], direction="up")
    with pytest.raises(ValueError, match="NaN"):
        wilcoxon_p([1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(ValueError):
        spearman([1.0, 2.0, 3.0], [1.0, 2.0])


def test_wilcoxon_edge_cases():
    assert wilcoxon_p([0.2, 0.5, 0.9], [0.2, 0.5, 0.9]) == 1.0
    assert math.isnan(wilcoxon_p([1.0], [0.0]))
    # Three wins among 40 questions, the rest tied: zsplit keeps the ties, so not significant.
    a = np.zeros(40)
    a[:3] = 1.0
    assert wilcoxon_p(a, np.zeros(40)) > 0.05
    p = wilcoxon_p(np.arange(20.0) + 1.0, np.arange(20.0))
    assert 0 < p < 0.001


def test_up_to_13_questions_the_p_value_is_scipys_from_every_sign_flip():
    """Small samples take the vectorised sign-flip test: the same p-value as scipy's wilcoxon, whose
    exact distribution (no ties) or permutation test (ties or zeros) it replaces."""
    import warnings

    from scipy.stats import wilcoxon

    rng = np.random.default_rng(0)
    cases = [rng.normal(size=n) for n in (2, 5, 9, 13)]  # distinct values: scipy's exact distribution
    cases += [rng.integers(-2, 3, size=n).astype(float) for n in (4, 8, 13)]  # ties and zeros: its permutation test
    cases += [np.array([0.1] * 12 + [0.0])]  # every question gained alike, one tied
    for d in cases:
        if not np.any(d != 0):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = wilcoxon(d, zero_method="zsplit", alternative="two-sided").pvalue
        assert wilcoxon_p(d, np.zeros(d.size)) == pytest.approx(expected, abs=1e-12), d


def test_spearman():
    x = np.linspace(-2, 3, 25)
    assert spearman(x, np.exp(x)) == pytest.approx(1.0)
    assert spearman(x, -(x**3)) == pytest.approx(-1.0)
    rng = np.random.default_rng(2)
    assert abs(spearman(rng.normal(size=200), rng.normal(size=200))) < 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(spearman([1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0]))
        assert math.isnan(spearman([1.0, 2.0], [1.0, 2.0]))


def test_gain_summary_for_maximize_and_minimize_metrics():
    rng = np.random.default_rng(12)
    base = rng.uniform(0.2, 0.6, N_QUESTIONS)
    better = base + 0.1 + rng.normal(0, 0.05, N_QUESTIONS)

    up = gain_summary(better, base)
    assert set(up) == {"base", "tuned", "gain", "gain_ci95", "p_value", "questions", "significant"}
    assert up["gain"] == pytest.approx(better.mean() - base.mean())
    assert up["gain_ci95"][0] > 0 and up["p_value"] < 0.01 and up["questions"] == N_QUESTIONS
    assert up["significant"] is True
    json.dumps(up, allow_nan=False)

    # A length error is minimised: a higher tuned error is a real change but not a gain.
    assert gain_summary(better, base, direction="minimize")["significant"] is False
    down = gain_summary(base, better, direction="minimize")
    assert down["gain"] < 0 and down["gain_ci95"][1] < 0 and down["significant"] is True
    assert gain_summary(base, better)["significant"] is False

    single = gain_summary([0.5], [0.4])
    assert single["p_value"] is None and single["significant"] is True
    json.dumps(single, allow_nan=False)


def test_indistinguishable_marks_trials_close_to_the_best():
    rng = np.random.default_rng(13)
    best = rng.uniform(0.3, 0.8, N_QUESTIONS)
    others = {
        "same": best.copy(),
        "noisy": best + rng.normal(0, 0.1, N_QUESTIONS) - 0.005,
        "worse": best - 0.15 + rng.normal(0, 0.05, N_QUESTIONS),
        7: best - 0.3,
    }
    marked = indistinguishable(best, others)
    assert marked == {"same", "noisy"}
    assert indistinguishable(best, dict(reversed(list(others.items())))) == marked
    assert indistinguishable(best, {"worse": others["worse"]}) == set()
    with pytest.raises(ValueError, match="38 values"):
        indistinguishable(best, {"short": best[:5]})


def test_interval_methods():
    interval = Interval(0.128, 0.098, 0.192, 38)
    assert str(interval) == "0.128 [0.098, 0.192]"
    assert interval.format(1) == "0.1 [0.1, 0.2]"
    assert interval.contains(0.098) and interval.contains(0.15) and not interval.contains(0.2)
    assert interval.excludes(0.0) and interval.excludes(0.2) and not interval.excludes(0.098)
    assert interval.half_width == pytest.approx(0.047)
    d = interval.to_dict()
    assert d == {"estimate": 0.128, "low": 0.098, "high": 0.192, "n": 38}
    assert all(type(d[k]) is float for k in ("estimate", "low", "high")) and type(d["n"]) is int
    assert Interval.from_dict(json.loads(json.dumps(d))) == interval
    computed = mean_interval(np.random.default_rng(0).normal(size=10)).to_dict()
    assert all(type(computed[k]) is float for k in ("estimate", "low", "high"))
    nan = Interval(float("nan"), float("nan"), float("nan"), 0)
    assert nan.to_dict()["low"] is None
    assert math.isnan(Interval.from_dict(nan.to_dict()).low)
    with pytest.raises(Exception):
        interval.low = 0.0  # frozen


def _loss_rows(rng: np.random.Generator, n: int, loss: float) -> list[list[float]]:
    """Per question [summed log-probability, tokens] of answers whose true loss per token is ``loss``."""
    tokens = rng.integers(5, 40, size=n)
    return [[float(-rng.normal(loss, 0.3) * k), int(k)] for k in tokens]


def test_loss_rows_get_a_ratio_interval_that_covers_the_true_loss_about_95_percent_of_the_time():
    from objectives import interval_table, stats_key

    rng = np.random.default_rng(3)
    covered = 0
    for _ in range(200):
        table = interval_table({stats_key("eval_loss"): _loss_rows(rng, 30, 2.0)})
        covered += table["eval_loss"].low <= 2.0 <= table["eval_loss"].high
    assert 0.88 <= covered / 200 <= 0.99


def test_loss_gain_detects_a_planted_drop_and_not_a_null_one():
    from objectives import gain_table, stats_key

    rng = np.random.default_rng(4)
    key = stats_key("probe_seen_loss")
    base = _loss_rows(rng, 40, 2.0)
    tuned = [[s * 0.8, k] for s, k in base]  # 20 % less loss on every question
    gain = gain_table({key: tuned}, {key: base}, ["probe_seen_loss"])["probe_seen_loss"]
    assert gain["gain_ci95"][0] <= gain["gain"] <= gain["gain_ci95"][1] < 0
    assert gain["significant"] and gain["p_value"] is None
    assert gain["gain"] == pytest.approx(-0.2 * gain["base"], rel=1e-6)
    same = gain_table({key: base}, {key: _loss_rows(rng, 40, 2.0)}, ["probe_seen_loss"])["probe_seen_loss"]
    assert same["gain_ci95"][0] < 0 < same["gain_ci95"][1] and not same["significant"]


def test_difference_of_means_covers_a_known_difference_and_detects_a_planted_one():
    from objectives import difference_of_means

    rng = np.random.default_rng(5)
    covered = sum(difference_of_means(rng.normal(0.3, 0.1, 8), rng.normal(0.2, 0.1, 8), seed=i).contains(0.1)
                  for i in range(200))
    assert 0.85 <= covered / 200 <= 0.99  # percentile bootstrap with 8 a group runs a little narrow
    planted = difference_of_means(rng.normal(0.5, 0.05, 10), rng.normal(0.2, 0.05, 10))
    assert planted.low > 0.2 and planted.n == 10


def test_paired_t_difference_covers_a_known_effect_over_few_pairs_where_the_bootstrap_does_not():
    # 8 pairs (the cells of a 2x2x2x2 grid that differ in one setting), true effect 0.1
    from objectives._t_intervals import paired_t_difference

    t_hits = boot_hits = 0
    sims = 2000
    for i in range(sims):
        rng = np.random.default_rng(5000 + i)
        off = rng.normal(0.3, 0.05, 8)
        on = off + 0.1 + rng.normal(0, 0.03, 8)
        t_hits += paired_t_difference(on, off).contains(0.1)
        boot_hits += paired_difference(on, off, n_resamples=400, seed=i).contains(0.1)
    assert 0.935 <= t_hits / sims <= 0.965  # what it says: 95 %
    assert boot_hits / sims < 0.93  # the percentile bootstrap is too narrow at n = 8
    one = paired_t_difference([0.5], [0.2])
    assert (one.estimate, one.low, one.high, one.n) == pytest.approx((0.3, 0.3, 0.3, 1))


def _grid_trials(rng, pairs, questions, effect_per_question, trial_sd, noise_sd):
    """A trials x questions table, paired: on[k] and off[k] share cell k's offset, and differ in the remedy.

    ``effect_per_question``: the remedy's effect on each question (the questions are a draw from a
    population whose mean effect is the truth); ``trial_sd``: how much the effect varies from one
    pair of trials to another (seeds, the other settings); ``noise_sd``: per trial and question.
    """
    difficulty = rng.normal(0.3, 0.1, questions)
    cell = rng.normal(0, 0.05, (pairs, 1))
    off = difficulty + cell + rng.normal(0, noise_sd, (pairs, questions))
    on = (difficulty + cell + effect_per_question + rng.normal(0, trial_sd, (pairs, 1))
          + rng.normal(0, noise_sd, (pairs, questions)))
    return on, off


def test_an_effect_over_trials_and_questions_covers_the_truth_where_trials_alone_claim_too_much():
    # Trials that all move the same questions the same way (a deterministic CPU path, 1 quiz question of 40):
    # every pair gives the same difference, so an interval over trials alone has no width and excludes the
    # truth (0 over the population of questions) on almost every draw.
    from objectives import paired_t_difference, trials_and_questions_difference

    sims, crossed, trials_only = 400, 0, 0
    for i in range(sims):
        rng = np.random.default_rng(9000 + i)
        on, off = _grid_trials(rng, pairs=4, questions=24, effect_per_question=rng.normal(0, 0.1, 24),
                               trial_sd=0.0, noise_sd=0.0)
        crossed += trials_and_questions_difference(on, off, paired=True).contains(0.0)
        trials_only += paired_t_difference(on.mean(axis=1), off.mean(axis=1)).contains(0.0)
    assert crossed / sims >= 0.92
    assert trials_only / sims < 0.05


@pytest.mark.parametrize("paired", [True, False])
def test_an_effect_over_trials_and_questions_keeps_its_coverage_with_both_kinds_of_noise(paired):
    from objectives import trials_and_questions_difference

    sims, hits = 400, 0
    for i in range(sims):
        rng = np.random.default_rng(12000 + i)
        on, off = _grid_trials(rng, pairs=6, questions=24, effect_per_question=rng.normal(0.05, 0.08, 24),
                               trial_sd=0.03, noise_sd=0.05)
        if not paired:
            on, off = on[:3], off[3:]  # two groups of different trials
        hits += trials_and_questions_difference(on, off, paired=paired).contains(0.05)
    assert 0.93 <= hits / sims <= 0.995  # 95 %, leaning wide by construction, not uselessly so


def test_an_effect_over_trials_and_questions_finds_a_planted_remedy_and_not_a_null_one():
    from objectives import trials_and_questions_difference

    found = {0.0: 0, 0.15: 0}
    sims = 200
    for effect in found:
        for i in range(sims):
            rng = np.random.default_rng(15000 + i)
            on, off = _grid_trials(rng, pairs=4, questions=24, effect_per_question=rng.normal(effect, 0.1, 24),
                                   trial_sd=0.02, noise_sd=0.05)
            found[effect] += trials_and_questions_difference(on, off, paired=True).low > 0
    assert found[0.15] / sims >= 0.95
    assert found[0.0] / sims <= 0.05
    with pytest.raises(ValueError, match="same questions"):
        trials_and_questions_difference([[0.1, 0.2]], [[0.1, 0.2, 0.3]], paired=False)
