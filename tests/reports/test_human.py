from __future__ import annotations

import optuna

from reports import study_data
from reports._analyses import Analyses
from reports._human import figure as human_figure
from reports._human import human_evaluation


def _analyses(study: optuna.Study) -> Analyses:
    return study_data(study).analyses


def test_human_rows_pair_ratings_with_objectives_best_first(clinical_study: optuna.Study) -> None:
    h = _analyses(clinical_study).human
    assert h.objectives == ("rougeL", "length_error")
    assert [(r.number, r.mean_rating, r.n) for r in h.rows] == [(2, 4.2, 20), (3, 3.9, 18), (0, 3.1, 20)]
    assert h.rows[0].metrics == {"rougeL": 0.40, "length_error": 0.20}


def test_human_agreement_lists_objectives_first(clinical_study: optuna.Study) -> None:
    h = _analyses(clinical_study).human
    assert list(h.agreement.items()) == [("rougeL", 1.0), ("length_error", -0.5), ("bleu", None)]
    assert h.note is None


def test_human_evaluation_is_a_note_without_ratings(study: optuna.Study) -> None:
    h = _analyses(study).human
    assert h.rows == () and h.agreement == {}
    assert "python -m study.human_eval" in (h.note or "")


def test_human_agreement_of_too_few_trials_gets_a_note() -> None:
    h = human_evaluation({"0": {"mean_rating": 4.0, "n": 5}}, {"rougeL": None}, (), ())
    assert [r.number for r in h.rows] == [0] and h.rows[0].metrics == {}
    assert "at least 3 trials" in (h.note or "")


def test_human_ratings_without_agreement_get_a_note() -> None:
    h = human_evaluation({"0": {"mean_rating": 4.0, "n": 5}}, None, (), ())
    assert h.agreement == {} and "no agreement" in (h.note or "")


def test_human_figure_shows_the_agreement_of_each_metric(clinical_study: optuna.Study) -> None:
    bar = human_figure(study_data(clinical_study).analyses.human).figure.data[0]
    assert dict(zip(bar.y, bar.x)) == {"rougeL": 1.0, "length_error": -0.5}  # bleu has no rho
