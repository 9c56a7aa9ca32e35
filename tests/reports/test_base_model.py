"""The untuned base model as a row of the study: shown, but neither ranked nor searched."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from objectives import Interval
from reports import study_data
from reports._parallel import figure as parallel_figure


def test_rows_mark_the_base_model_and_carry_intervals_gains_and_per_question_scores(liver_study, liver_trials) -> None:
    best = liver_trials.best
    study, pruning = liver_study
    rows = {r.number: r for r in study_data(study, pruning).trials}
    assert [n for n, r in rows.items() if r.is_base] == [0]
    stored = study.trials[best].user_attrs
    assert rows[best].intervals["rougeL"] == Interval.from_dict(stored["intervals"]["rougeL"])
    assert rows[best].per_question["rougeL"] == stored["per_question"]["rougeL"]
    assert rows[best].gain["rougeL"]["gain_ci95"] == stored["gain_vs_base"]["rougeL"]["gain_ci95"]
    assert rows[8].intervals == {} and rows[8].gain == {}  # pruned: nothing scored


def test_a_gain_not_stored_is_computed_from_the_per_question_scores(liver_study, liver_trials) -> None:
    number = liver_trials.no_stored_gain
    study, pruning = liver_study
    assert "gain_vs_base" not in study.trials[number].user_attrs
    row = next(r for r in study_data(study, pruning).trials if r.number == number)
    tuned = np.array(study.trials[number].user_attrs["per_question"]["rougeL"])
    base = np.array(study.trials[0].user_attrs["per_question"]["rougeL"])
    gain = row.gain["rougeL"]
    assert gain["gain"] == pytest.approx(float(np.mean(tuned - base)))
    assert gain["gain_ci95"][0] <= gain["gain"] <= gain["gain_ci95"][1]
    assert gain["questions"] == len(tuned)


def test_old_studies_have_no_base_row_and_empty_intervals(study: optuna.Study) -> None:
    rows = study_data(study).trials
    assert not any(r.is_base for r in rows)
    assert all(r.intervals == {} and r.gain == {} and r.per_question == {} for r in rows)


def test_the_base_model_is_not_on_the_pareto_front_even_where_it_is_not_dominated(liver_3d, liver_trials) -> None:
    study, pruning = liver_3d
    assert 0 in {t.number for t in study.best_trials}  # train_seconds 0: Optuna puts it on the front
    data = study_data(study, pruning)
    assert 0 not in {r.number for r in data.pareto}
    assert 0 not in {b.row.number for b in data.best}
    assert data.pareto[0].number == liver_trials.best


def test_the_base_model_stays_out_of_importances_and_parallel_coordinates(liver_study) -> None:
    study, pruning = liver_study
    data = study_data(study, pruning)
    assert all("the study has 7" in (imp.note or "") for imp in data.importances)  # 7 tuned trials, not 8
    block = parallel_figure(data)
    assert block.note is None  # the base model is not "a trial without every parameter"
    assert len(block.figure.data[0].dimensions[0]["values"]) == 7


def test_importances_are_computed_in_a_study_holding_the_base_model() -> None:
    study = optuna.create_study(directions=["maximize"])
    dist = {"x": optuna.distributions.FloatDistribution(0.0, 1.0), "y": optuna.distributions.FloatDistribution(0.0, 1.0)}
    rng = np.random.default_rng(3)
    study.add_trial(optuna.trial.create_trial(values=[0.1], user_attrs={"reference": "base"}))
    for _ in range(40):
        x, y = rng.uniform(size=2)
        study.add_trial(optuna.trial.create_trial(values=[x], params={"x": x, "y": y}, distributions=dist))
    (imp,) = study_data(study).importances
    assert imp.note is None and set(imp.importances) == {"x", "y"}
    assert imp.importances["x"] > imp.importances["y"]


def test_the_base_model_is_left_out_of_the_clinical_analyses(liver_study) -> None:
    study, pruning = liver_study
    a = study_data(study, pruning).analyses
    assert a.correlations.n_trials == 7
    assert sum(len(g.numbers) for g in a.pretraining.comparisons[0].groups) == 7
