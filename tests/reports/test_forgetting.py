from __future__ import annotations

import optuna
import pytest

from reports import study_data
from reports._analyses import Analyses
from reports._forgetting import figure as forgetting_figure


def _analyses(study: optuna.Study) -> Analyses:
    return study_data(study).analyses


def test_forgetting_plots_complete_trials_against_the_base_accuracy(clinical_study: optuna.Study) -> None:
    f = _analyses(clinical_study).forgetting
    assert f.x_metric == "rougeL" and f.base_accuracy == pytest.approx(0.75)
    assert [(p.number, p.x, p.y) for p in f.points] == [(0, 0.30, 0.70), (1, 0.20, 0.72), (2, 0.40, 0.60),
                                                        (3, 0.35, 0.65)]
    assert f.points[1].params == {"lora.rank": 8} and f.note is None


def test_forgetting_is_a_note_when_no_trial_took_the_quiz(study: optuna.Study) -> None:
    f = _analyses(study).forgetting
    assert f.points == () and f.base_accuracy is None
    assert "general_accuracy" in (f.note or "")


def test_forgetting_figure_draws_the_base_accuracy_and_hovers_trials(clinical_study: optuna.Study) -> None:
    fig = forgetting_figure(study_data(clinical_study).analyses.forgetting).figure
    scatter = fig.data[0]
    assert list(zip(scatter.x, scatter.y)) == [(0.30, 0.70), (0.20, 0.72), (0.40, 0.60), (0.35, 0.65)]
    assert "trial 1" in scatter.text[1] and "lora.rank: 8" in scatter.text[1]
    assert fig.layout.shapes[0].y0 == pytest.approx(0.75) == fig.layout.shapes[0].y1
    assert fig.layout.xaxis.title.text == "rougeL"
