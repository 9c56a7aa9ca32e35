from __future__ import annotations

import optuna

from reports import study_data
from reports._pareto import figure as pareto_figure


def test_pareto_rows_match_study_best_trials(study: optuna.Study) -> None:
    pareto = study_data(study).pareto
    assert {r.number for r in pareto} == {t.number for t in study.best_trials} == {0, 2, 3}


def test_pareto_rows_are_sorted_best_first_by_the_first_objective(study: optuna.Study) -> None:
    # rougeL is maximised: trial 3 (0.35), trial 0 (0.30), trial 2 (0.25).
    assert [r.number for r in study_data(study).pareto] == [3, 0, 2]


def test_pareto_rows_are_empty_without_complete_trials() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    assert study_data(study).pareto == ()


def test_pareto_figure_marks_the_front_for_two_objectives(study_2d: optuna.Study) -> None:
    fig = pareto_figure(study_data(study_2d)).figure
    traces = {t.name: t for t in fig.data}
    assert {t.type for t in fig.data} == {"scatter"}
    front = sorted(zip(traces["Pareto front"].x, traces["Pareto front"].y))
    assert front == sorted(tuple(t.values) for t in study_2d.best_trials)
    assert list(zip(traces["dominated"].x, traces["dominated"].y)) == [(0.20, 0.50)]


def test_pareto_figure_is_a_scatter_matrix_for_three_objectives(study: optuna.Study) -> None:
    fig = pareto_figure(study_data(study)).figure
    assert {t.type for t in fig.data} == {"splom"}
    front = next(t for t in fig.data if t.name == "Pareto front")
    assert [d.label for d in front.dimensions] == ["rougeL (max)", "bertscore_f1 (max)", "train_seconds (min)"]
    assert len(front.dimensions[0].values) == 3
