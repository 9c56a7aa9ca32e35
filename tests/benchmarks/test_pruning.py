from __future__ import annotations

import numpy as np

from benchmarks.pruning import best_comparison


def test_the_same_scores_lie_within_and_differ_by_exactly_zero():
    scores = list(np.random.default_rng(0).random(20))
    out = best_comparison(scores, scores)
    low, high = out["unpruned_best_ci95"]
    assert low < float(np.mean(scores)) < high
    assert out["best_within_unpruned_ci95"] is True
    assert out["difference_ci95"] == [0.0, 0.0] and out["difference_includes_zero"] is True


def test_a_pruned_best_far_below_the_unpruned_one_lies_outside_and_its_difference_excludes_zero():
    unpruned = list(0.5 + 0.1 * np.random.default_rng(1).random(30))
    pruned = [x - 0.3 for x in unpruned]
    out = best_comparison(pruned, unpruned)
    assert out["best_within_unpruned_ci95"] is False
    assert out["difference_ci95"][0] < -0.29 and out["difference_ci95"][1] > -0.31
    assert out["difference_includes_zero"] is False


def test_a_small_shift_on_the_same_questions_is_within_the_interval_yet_the_paired_difference_sees_it():
    unpruned = list(np.random.default_rng(2).random(40))  # spread 0..1: a wide interval of the mean
    pruned = [x - 0.02 for x in unpruned]
    out = best_comparison(pruned, unpruned)
    assert out["best_within_unpruned_ci95"] is True
    assert out["difference_includes_zero"] is False


def test_different_question_counts_give_no_paired_difference_and_missing_scores_give_nothing():
    out = best_comparison([0.4, 0.5, 0.6], [0.4, 0.5, 0.6, 0.5])
    assert out["best_within_unpruned_ci95"] is True and out["difference_ci95"] is None
    assert best_comparison(None, [0.5, 0.6])["best_within_unpruned_ci95"] is None


def test_an_unknown_pruning_metric_stops_before_any_trial():
    import pytest

    from benchmarks.pruning import main

    with pytest.raises(SystemExit, match="--pruning-metric: unknown metric 'rouge'"):
        main(["--quick", "--pruning-metric", "rouge"])
