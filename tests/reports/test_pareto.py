from __future__ import annotations

import optuna
import pytest

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


def _traces(liver) -> dict:
    study, pruning = liver
    return {t.name: t for t in pareto_figure(study_data(study, pruning)).figure.data}


def test_the_base_model_is_its_own_marker_and_legend_entry(liver_study) -> None:
    study, _ = liver_study
    base = _traces(liver_study)["base model (untuned)"]
    assert list(zip(base.x, base.y)) == [tuple(study.trials[0].values)]
    assert base.showlegend and base.marker.symbol == "diamond"


def test_trials_indistinguishable_from_the_best_are_ringed(liver_study, liver_trials) -> None:
    close, far = liver_trials.close, liver_trials.far
    study, pruning = liver_study
    data = study_data(study, pruning)
    assert data.close_to_best == {close}
    assert far not in data.close_to_best  # 0.1 behind on every question, give or take 0.01
    ring = _traces(liver_study)["indistinguishable from the best (95 %)"]
    assert list(ring.x) == [study.trials[close].values[0]] and ring.marker.symbol == "circle-open"


def test_old_studies_have_neither_base_marker_nor_ring(study_2d: optuna.Study) -> None:
    assert [t.name for t in pareto_figure(study_data(study_2d)).figure.data] == ["dominated", "Pareto front"]
    assert all(t.error_x.array is None and t.error_y.array is None for t in pareto_figure(study_data(study_2d)).figure.data)


def test_error_bars_span_each_trials_95_percent_interval(liver_study) -> None:
    study, _ = liver_study
    front = _traces(liver_study)["Pareto front"]
    for x, y, plus_x, minus_x, plus_y, minus_y in zip(front.x, front.y, front.error_x.array, front.error_x.arrayminus,
                                                       front.error_y.array, front.error_y.arrayminus):
        trial = next(t for t in study.trials if t.values and t.values[0] == x and "reference" not in t.user_attrs)
        rouge, length = trial.user_attrs["intervals"]["rougeL"], trial.user_attrs["intervals"]["length_error"]
        assert (x + plus_x, x - minus_x) == pytest.approx((rouge["high"], rouge["low"]))
        assert (y + plus_y, y - minus_y) == pytest.approx((length["high"], length["low"]))


def test_three_objectives_with_intervals_give_a_grid_of_pairs_with_error_bars(liver_3d) -> None:
    fig = pareto_figure(study_data(*liver_3d)).figure
    assert {t.type for t in fig.data} == {"scatter"}
    assert len({t.xaxis for t in fig.data}) == 3  # rougeL-length_error, rougeL-train_seconds, length_error-train_seconds
    front = [t for t in fig.data if t.name == "Pareto front"]
    assert front[0].error_x.array is not None and front[0].error_y.array is not None
    assert front[1].error_y.array is None  # train_seconds has no interval


def test_a_study_that_searches_retrieval_shows_each_approach_with_its_own_marker(tmp_path) -> None:
    from study.core import keys

    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", directions=["maximize", "minimize"])
    # (QA epochs, pretraining epochs, top_k) -> (rougeL, length_error): retrieval only is on the front
    for (epochs, pre, top_k), values in {(3, 0, 0): (0.30, 0.40), (0, 1, 0): (0.20, 0.60), (0, 0, 2): (0.35, 0.50),
                                         (3, 0, 2): (0.25, 0.45), (0, 0, 0): (0.10, 0.90)}.items():
        trial = study.ask()
        trial.set_user_attr(keys.CONFIG, {"training": {"epochs": epochs}, "pretraining": {"epochs": pre},
                                          "retrieval": {"top_k": top_k}})
        study.tell(trial, values)
    traces = {t.name: t for t in pareto_figure(study_data(study)).figure.data}
    assert {name: list(zip(t.x, t.y)) for name, t in traces.items()} == {
        "dominated: fine-tuning only": [(0.20, 0.60)],
        "dominated: fine-tuning + retrieval": [(0.25, 0.45)],
        "dominated: neither": [(0.10, 0.90)],
        "Pareto front: fine-tuning only": [(0.30, 0.40)],
        "Pareto front: retrieval only": [(0.35, 0.50)],
    }
    assert traces["Pareto front: retrieval only"].marker.symbol == "square"
    assert traces["Pareto front: fine-tuning only"].marker.symbol == traces["dominated: fine-tuning only"].marker.symbol


def test_a_study_without_retrieval_keeps_one_front_trace(study_2d: optuna.Study) -> None:
    assert {t.name for t in pareto_figure(study_data(study_2d)).figure.data} >= {"dominated", "Pareto front"}
