"""Compared with the base model: the best trials' gains with intervals and p, and the single-run verdict."""

from __future__ import annotations

import optuna

from reports import build_figures, render_html, study_data
from reports._vs_base import figure


def _section(study, pruning=None) -> str:
    data = study_data(study, pruning)
    page = render_html(data, build_figures(data))
    start = page.index('id="vs-base"')
    return page[start:page.find("<h2", start)]


def test_rows_are_the_base_model_then_the_pareto_trials_with_their_gains(liver_single) -> None:
    study, pruning = liver_single
    data = study_data(study, pruning)
    v = data.analyses.vs_base
    assert [r.number for r in v.rows] == [None, *(r.number for r in data.pareto)]
    best = v.rows[1]
    stored = study.trials[best.number].user_attrs["gain_vs_base"]["rougeL"]
    assert (best.gains["rougeL"].low, best.gains["rougeL"].high) == tuple(stored["gain_ci95"])
    assert best.gains["rougeL"].p_value == stored["p_value"]


def test_the_verdict_is_computed_from_the_gains_and_their_intervals(liver_single, liver_trials) -> None:
    study, pruning = liver_single
    rouge, length = study_data(study, pruning).analyses.vs_base.verdicts
    g = study.trials[liver_trials.best].user_attrs["gain_vs_base"]["rougeL"]
    assert rouge == (f"trial {liver_trials.best} beats the base model on rougeL by {g['gain']:+.3g}, "
                     f"95 % interval [{g['gain_ci95'][0]:+.3g}, {g['gain_ci95'][1]:+.3g}]")
    assert length.startswith("trial 1 beats the base model on length_error by -") and "lower is better" in length


def test_single_runs_carry_the_winners_curse_caution_where_no_confirmation_covers_them(liver_single, liver_study) -> None:
    alone = study_data(*liver_single).analyses.vs_base
    assert "winner's curse" in alone.caution and "python -m study.confirm" in alone.caution
    assert "trials 4, 5, 7, 1 not confirmed" in alone.caution
    confirmed = study_data(*liver_study).analyses.vs_base  # 3, 4 and 5 are confirmed
    assert "trials 7, 1 not confirmed" in confirmed.caution


def test_the_section_writes_every_gain_with_its_interval_and_p(liver_single) -> None:
    section = _section(*liver_single)
    assert "<td>base model (untuned)</td>" in section
    assert section.count('<span class="gain">[') >= 2 * 5 + 2  # scores of 5 models and gains of 4, 2 objectives
    assert "p = " in section and "<b>Single runs:</b> trial 4 beats the base model on rougeL" in section
    assert "winner&#x27;s curse" in section


def test_a_study_without_the_base_model_says_so(study: optuna.Study) -> None:
    v = study_data(study).analyses.vs_base
    assert not v.rows and "base model was not scored" in v.note
    assert figure(v).figure is None and "<table>" not in _section(study)


def test_a_trial_with_a_gain_inside_zero_does_not_beat_the_base_model() -> None:
    study = optuna.create_study(directions=["maximize"])
    study.set_metric_names(["rougeL"])
    study.add_trial(optuna.trial.create_trial(values=[0.2], user_attrs={"reference": "base"}))
    gain = {"base": 0.2, "tuned": 0.25, "gain": 0.05, "gain_ci95": [-0.01, 0.11], "p_value": 0.12,
            "questions": 30, "significant": False}
    study.add_trial(optuna.trial.create_trial(values=[0.25], user_attrs={"gain_vs_base": {"rougeL": gain}}))
    (verdict,) = study_data(study).analyses.vs_base.verdicts
    assert verdict == ("no trial on the Pareto front beats the base model on rougeL: the best, trial 1, gains "
                       "+0.05, 95 % interval [-0.01, +0.11], which includes no improvement")
