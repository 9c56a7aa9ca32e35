"""Membership AUC and canary exposure on seeded simulations with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from objectives import auc, exposure, gain_table, interval_table, membership_rows, rank_exposure, stats_key


def test_auc_is_the_mann_whitney_probability():
    assert auc([1.0, 2.0], [3.0, 4.0]) == 1.0  # every held-out loss above every training loss
    assert auc([3.0, 4.0], [1.0, 2.0]) == 0.0
    assert auc([1.0, 2.0], [2.0, 1.0]) == 0.5
    assert auc([1.0], [1.0, 2.0]) == 0.75  # one tie (half), one above
    u = stats.mannwhitneyu([3.0, 1.0, 2.5], [2.0, 4.0, 5.0, 0.5]).statistic  # held-out ranked above training
    assert auc([3.0, 1.0, 2.5], [2.0, 4.0, 5.0, 0.5]) == pytest.approx(1 - u / 12)


def test_auc_of_shifted_normal_losses_matches_theory():
    # Training losses N(0, 1), held-out N(1, 1): AUC = Phi(1 / sqrt 2) = 0.760.
    rng = np.random.default_rng(0)
    members, held_out = rng.normal(0, 1, 4000), rng.normal(1, 1, 4000)
    assert auc(members, held_out) == pytest.approx(stats.norm.cdf(1 / math.sqrt(2)), abs=0.01)


def rows_from_losses(member_losses, held_out_losses, tokens=10):
    return membership_rows([(-loss * tokens, tokens) for loss in member_losses],
                           [(-loss * tokens, tokens) for loss in held_out_losses])


def test_interval_covers_one_half_when_the_model_cannot_tell_and_not_when_it_can():
    rng = np.random.default_rng(1)
    same = rows_from_losses(rng.normal(2, 0.3, 32), rng.normal(2, 0.3, 32))
    told = rows_from_losses(rng.normal(1, 0.3, 32), rng.normal(2, 0.3, 32))
    key = stats_key("membership_auc")
    blind, seeing = interval_table({key: same})["membership_auc"], interval_table({key: told})["membership_auc"]
    assert blind.low < 0.5 < blind.high and blind.n == 32
    assert seeing.low > 0.9 and seeing.estimate > 0.95
    gain = gain_table({key: told}, {key: same}, ["membership_auc"])["membership_auc"]
    assert gain["gain"] > 0.3 and gain["gain_ci95"][0] > 0 and gain["significant"] is False  # higher is worse


def test_exposure_of_an_unmemorised_secret_averages_1_44_bits():
    # The secret's log-perplexity is one more draw from the candidates' distribution: -log2 U, mean 1/ln 2.
    rng = np.random.default_rng(2)
    skew = stats.skewnorm(4.0, loc=30.0, scale=5.0)
    values = [exposure(skew.rvs(random_state=rng), skew.rvs(size=200, random_state=rng), 2**24) for _ in range(200)]
    assert np.mean(values) == pytest.approx(1 / math.log(2), abs=0.25)
    assert max(values) < 12


def test_exposure_extrapolates_beyond_the_sample_and_is_capped():
    rng = np.random.default_rng(3)
    candidates = rng.normal(40.0, 4.0, 500)
    deep = 40.0 - 4.0 * stats.norm.isf(2.0**-16)  # one secret in 2^16 is at least this likely
    assert exposure(deep, candidates, 2**24) == pytest.approx(16, abs=1.5)
    assert rank_exposure(deep, candidates, 2**24) == pytest.approx(math.log2(501))  # the sample alone stops at 9 bits
    assert exposure(-1e6, candidates, 2**24) == 24  # ranked first: the whole space
    assert exposure(1e6, candidates, 2**24) == 0.0


def test_exposure_rejects_too_few_candidates():
    with pytest.raises(ValueError):
        exposure(1.0, [2.0, 3.0], 100)
