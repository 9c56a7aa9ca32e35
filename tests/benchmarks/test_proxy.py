from __future__ import annotations

import numpy as np
import pytest

from benchmarks.proxy import FINAL, check_costs, correlations


def _records(n: int = 12, seed: int = 0) -> list[dict]:
    """Trials whose eval_loss at check 1 falls as the final ROUGE-L rises; the answer metric is noise."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        rouge = 0.1 + 0.02 * i
        epochs = 1 + i % 2  # every trial has check 1 before its end; odd ones also check 2 and 3
        checks = [{"check": j, "final": j == 2 * epochs, "eval_loss": 3.0 - rouge * j, "loss_seconds": 1.0,
                   "answer_seconds": 3.0, "eval_seconds": 10.0, "check_rougeL": float(rng.random()),
                   "check_bertscore_f1": rouge ** 2} for j in range(1, 2 * epochs + 1)]
        records.append({"state": "COMPLETE", "objectives": {"rougeL": rouge, "bertscore_f1": 0.5 + rouge},
                        "checks": checks})
    records.append({"state": "FAIL", "checks": []})
    return records


def test_a_signal_that_ranks_trials_in_reverse_has_rho_minus_one_with_a_point_interval():
    rhos = {(r.check, r.signal, r.objective): r for r in correlations(_records())}
    first = rhos[("1", "eval_loss", "rougeL")]
    assert first.n == 12 and first.rho == pytest.approx(-1.0)
    assert first.low == pytest.approx(-1.0) and first.high == pytest.approx(-1.0)
    assert rhos[("1", "check_bertscore_f1", "bertscore_f1")].rho == pytest.approx(1.0)


def test_checks_count_the_trials_that_reached_them_before_their_end_and_the_final_check_holds_all():
    rhos = correlations(_records(), signals=("eval_loss",), objectives=("rougeL",))
    assert [(r.check, r.n) for r in rhos] == [("1", 12), ("2", 6), ("3", 6), (FINAL, 12)]


def test_a_noise_signal_has_an_interval_around_its_estimate_that_includes_zero():
    noise = {(r.check, r.signal): r for r in correlations(_records(n=30), objectives=("rougeL",))}[("1", "check_rougeL")]
    assert noise.low is not None and noise.low <= noise.rho <= noise.high
    assert noise.low < 0 < noise.high


def test_too_few_trials_give_no_rho():
    rhos = correlations(_records(n=4), signals=("eval_loss",), objectives=("rougeL",))
    assert all(r.rho is None and r.low is None for r in rhos)


def test_costs_are_means_over_the_checks_before_the_last():
    costs = check_costs(_records(n=4))
    assert costs == {"eval_loss_seconds": 1.0, "answer_metric_seconds": 3.0, "full_evaluation_seconds": 10.0,
                     "checks": 2 * 1 + 2 * 3}
