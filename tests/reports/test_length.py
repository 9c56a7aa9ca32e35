from __future__ import annotations

import optuna

from reports import study_data
from reports._analyses import Analyses
from reports._length import figure as length_figure


def _analyses(study: optuna.Study) -> Analyses:
    return study_data(study).analyses


def test_length_tradeoff_uses_the_length_objective_and_answer_styles(clinical_study: optuna.Study) -> None:
    lengths = _analyses(clinical_study).lengths
    assert (lengths.x_metric, lengths.y_metric) == ("rougeL", "length_error")
    assert [(p.number, p.y, p.group) for p in lengths.points] == [
        (0, 0.50, "none"), (1, 0.30, "concise"), (2, 0.20, "one_sentence"), (3, 0.40, "concise"),
    ]


def test_length_tradeoff_prefers_answer_words_and_has_no_groups_without_styles() -> None:
    study = optuna.create_study(directions=["maximize"])
    for v in (0.1, 0.2):
        study.add_trial(optuna.trial.create_trial(values=[v], user_attrs={
            "metrics": {"rougeL": v, "answer_words": 10 * v, "length_error": v}, "config": {"data": {}}}))
    lengths = study_data(study).analyses.lengths
    assert lengths.y_metric == "answer_words"
    assert [(p.y, p.group) for p in lengths.points] == [(1.0, None), (2.0, None)]


def test_length_tradeoff_is_a_note_without_length_metrics(study: optuna.Study) -> None:
    lengths = _analyses(study).lengths
    assert lengths.y_metric is None and lengths.points == ()
    assert "answer_words or length_error" in (lengths.note or "")


def test_length_figure_colours_trials_by_answer_style(clinical_study: optuna.Study) -> None:
    fig = length_figure(study_data(clinical_study).analyses.lengths).figure
    traces = {t.name: list(zip(t.x, t.y)) for t in fig.data}
    assert traces == {
        "answer_style concise": [(0.20, 0.30), (0.35, 0.40)],
        "answer_style none": [(0.30, 0.50)],
        "answer_style one_sentence": [(0.40, 0.20)],
    }
    assert fig.layout.yaxis.title.text == "length_error"
