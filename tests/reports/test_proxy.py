"""Does the pruning metric predict the objectives? Spearman's rho per check, and the warning."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import optuna
import pytest

from reports import build_figures, render_html, study_data
from reports._proxy import MIN_TRIALS, figure, rho_interval, table


def _proxy_of(study: optuna.Study, pruning: optuna.Study | None = None):
    return study_data(study, pruning).analyses.proxy


def test_rho_per_check_ranks_the_pruning_metric_against_each_objective(liver_study) -> None:
    p = _proxy_of(*liver_study)
    assert [(c.step, c.at) for c in p.checks] == [(1, 0.5), (2, 1.0), (3, 1.5)]  # 2 checks an epoch
    rouge = [c.rhos[0] for c in p.checks]
    assert [r.rho for r in rouge[:2]] == pytest.approx([-1.0, 1.0])  # designed: falls, then rises with rougeL
    assert {r.n for c in p.checks for r in c.rhos} == {7}  # COMPLETE tuned trials only: no base, no pruned
    assert p.expected == (-1, 1)  # eval_loss is minimised: - with rougeL (max), + with length_error (min)


def test_the_warning_names_the_checks_where_the_pruner_decides(liver_study) -> None:
    p = _proxy_of(*liver_study)
    assert [c.decides for c in p.checks] == [False, True, False]  # trial 8 was pruned after check 2
    (rouge,) = [w for w in p.warnings if "rougeL" in w]
    assert "epoch 1: rho +1.00" in rouge and "(wrong sign)" in rouge
    assert "epoch 0.5" not in rouge and "epoch 1.5" not in rouge
    assert figure(p).note and "wrong sign" in figure(p).note


def test_rho_intervals_contain_rho_and_narrow_with_more_trials() -> None:
    x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    small, large = rho_interval(x, [1.0, 3.0, 2.0, 5.0, 4.0, 6.0]), rho_interval(x * 4, [1.0, 3.0, 2.0, 5.0, 4.0, 6.0] * 4)
    assert small.low < small.rho < small.high
    assert large.high - large.low < small.high - small.low
    assert rho_interval(x[:MIN_TRIALS - 1], x[:MIN_TRIALS - 1]).rho is None


def _study(pruner: str, metric: str, series: Sequence[tuple[float, dict[int, float]]],
           pruned: dict[int, float] | None = None) -> optuna.Study:
    """A rougeL (max) study whose COMPLETE trials have these (final value, intermediate values)."""
    study = optuna.create_study(directions=["maximize"])
    study.set_metric_names(["rougeL"])
    study.set_user_attr("pruner", pruner)
    study.set_user_attr("pruning_metric", metric)
    study.add_trial(optuna.trial.create_trial(values=[0.1], user_attrs={"reference": "base"}))
    for value, steps in series:
        study.add_trial(optuna.trial.create_trial(values=[value], intermediate_values=steps))
    if pruned:
        study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.PRUNED, intermediate_values=pruned))
    return study


def test_a_weak_rho_where_the_pruner_decides_is_a_warning_for_a_maximised_pruning_metric() -> None:
    series = [(v, {1: v / 2, 2: s}) for v, s in zip((0.1, 0.2, 0.3, 0.4, 0.5, 0.6), (0.3, 0.1, 0.5, 0.6, 0.2, 0.4))]
    p = _proxy_of(_study("median", "rougeL", series, pruned={1: 0.0, 2: 0.0}))
    assert p.expected == (1,)
    assert p.checks[0].rhos[0].rho == pytest.approx(1.0)
    assert abs(p.checks[1].rhos[0].rho) < 0.3
    (warning,) = p.warnings
    assert "epoch 2: rho" in warning and "(weak)" in warning and "epoch 1:" not in warning


def test_without_pruned_trials_every_check_is_judged() -> None:
    series = [(v, {1: v, 2: -v}) for v in (0.1, 0.2, 0.3, 0.4, 0.5)]
    p = _proxy_of(_study("median", "rougeL", series))
    assert all(c.decides for c in p.checks) and "no trial was pruned yet" in (p.note or "")
    (warning,) = p.warnings
    assert "epoch 2: rho -1.00" in warning and "(wrong sign)" in warning and "epoch 1:" not in warning


def test_the_wilcoxon_pruner_is_judged_on_the_running_mean_of_its_questions() -> None:
    series = [(k / 10, {0: k / 10, 1: 0.0}) for k in range(1, 6)]  # question 2 alone is constant
    p = _proxy_of(_study("wilcoxon", "rougeL", series))
    assert p.unit == "questions" and [c.at for c in p.checks] == [1, 2]
    assert p.checks[1].rhos[0].rho == pytest.approx(1.0)


def test_fewer_than_five_trials_give_a_note(study: optuna.Study) -> None:
    p = _proxy_of(study)
    assert not p.checks and f"needs at least {MIN_TRIALS} COMPLETE trials" in (p.note or "") and "has 4" in p.note
    assert figure(p).figure is None


def test_the_proxy_section_lists_rho_with_interval_and_n(liver_study) -> None:
    data = study_data(*liver_study)
    page = render_html(data, build_figures(data))
    section = page[page.index('id="proxy"'):page.index('id="vs-base"')]
    assert "<th>rho with rougeL (max)</th>" in section and "n 7" in section and "<td>yes</td>" in section


def test_a_check_on_the_first_questions_is_also_judged_on_the_questions_it_never_answered() -> None:
    # The check answers questions 1-4 of 12; the objective averages all 12. Questions 1-4 carry the ranking and
    # 5-12 are unrelated to it, so rho with the whole objective looks fine while the check says nothing about
    # answers to questions it never saw: the second column shows it, and the warning reads that one.
    study = optuna.create_study(directions=["maximize"])
    study.set_metric_names(["rougeL"])
    study.set_user_attr("pruner", "median")
    study.set_user_attr("pruning_metric", "rougeL")
    rng = np.random.default_rng(3)
    for k in range(10):
        scores = [0.1 * k] * 4 + list(rng.random(8) * 0.2)
        final = sum(scores) / len(scores)
        study.add_trial(optuna.trial.create_trial(
            values=[final], intermediate_values={1: 0.1 * k, 2: final},
            user_attrs={"per_question": {"rougeL": scores},
                        "history": [{"epoch": 0.5, "rougeL": 0.1 * k, "questions": 4.0}, {"epoch": 1.0, "rougeL": final}]}))
    p = _proxy_of(study)
    first = p.checks[0]
    assert first.rhos[0].rho > 0.9  # the whole objective shares questions 1-4 with the check
    assert (p.unseen_from, p.questions) == (5, 12)
    assert abs(first.unseen[0].rho) < 0.7 and first.unseen[0].low < 0 < first.unseen[0].high
    (warning,) = p.warnings
    # judged on the questions the check did not answer: the whole objective's rho (> 0.9) would not warn
    assert f"epoch 1: rho {first.unseen[0].rho:+.2f}" in warning and "(weak)" in warning
    page = table(p)
    assert "rho with rougeL (max), questions 5-12 (not checked)" in page
    assert [t.name for t in figure(p).figure.data] == ["rougeL (max)", "rougeL (max), questions 5-12"]
