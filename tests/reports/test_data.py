from __future__ import annotations

import numpy as np
import optuna
import pytest

from reports._data import (
    MIN_TRIALS_FOR_IMPORTANCE,
    ObjectiveInfo,
    param_importances,
    running_best,
    study_data,
)


def test_objectives_carry_metric_names_and_directions(study: optuna.Study) -> None:
    assert study_data(study).objectives == (
        ObjectiveInfo("rougeL", "maximize"),
        ObjectiveInfo("bertscore_f1", "maximize"),
        ObjectiveInfo("train_seconds", "minimize"),
    )


def test_trial_rows_cover_every_trial_with_its_state(study: optuna.Study) -> None:
    rows = study_data(study).trials
    assert [(r.number, r.state) for r in rows] == [
        (0, "COMPLETE"), (1, "COMPLETE"), (2, "COMPLETE"), (3, "COMPLETE"), (4, "PRUNED"), (5, "FAIL"),
    ]


def test_trial_rows_hold_values_only_for_complete_trials(study: optuna.Study) -> None:
    rows = study_data(study).trials
    assert rows[2].values == (0.25, 0.70, 10.0)
    assert rows[4].values is None and rows[5].values is None


def test_trial_rows_carry_params_metrics_and_duration(study: optuna.Study) -> None:
    row = study_data(study).trials[1]
    assert row.params == {"lora.rank": 8, "training.learning_rate": pytest.approx(2e-4), "training.epochs": 2}
    assert row.metrics["rougeL"] == 0.20 and row.metrics["eval_loss"] == pytest.approx(3.1)
    assert row.duration_s is not None and row.duration_s >= 0.0


def test_trial_rows_carry_pruned_at_and_fail_reason(study: optuna.Study) -> None:
    rows = study_data(study).trials
    assert (rows[4].pruned_at, rows[4].fail_reason) == (2, None)
    assert (rows[5].pruned_at, rows[5].fail_reason) == (None, "RuntimeError: out of memory")


def test_counts_per_state(study: optuna.Study) -> None:
    assert study_data(study).counts == {"COMPLETE": 4, "PRUNED": 1, "FAIL": 1}


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


def test_best_trials_pair_each_answer_with_its_reference(study: optuna.Study, hostile_answer: str) -> None:
    best = {b.row.number: b.samples for b in study_data(study).best}
    assert set(best) == {0, 2, 3}
    assert best[0][0] == ("Question 0?", "Reference 0.", hostile_answer)
    assert best[2][0].reference == "Reference 2." and best[2][0].answer == "Answer 2."


def test_intermediate_series_include_the_pruned_trial(study: optuna.Study) -> None:
    series = {s.number: s for s in study_data(study).series}
    assert series[4].state == "PRUNED"
    assert (series[4].steps, series[4].values) == ((1, 2), (3.5, 3.6))
    assert set(series) == {0, 1, 2, 3, 4}  # the failed trial reported nothing


def test_param_axes_describe_categorical_and_log_parameters(study: optuna.Study) -> None:
    axes = {a.name: a for a in study_data(study).axes}
    assert axes["lora.rank"].choices == (4, 8, 16)
    assert axes["training.learning_rate"].log and axes["training.learning_rate"].choices is None
    assert not axes["training.epochs"].log


def test_running_best_follows_the_direction() -> None:
    assert running_best([2.0, 1.0, 3.0], "maximize") == (2.0, 2.0, 3.0)
    assert running_best([2.0, 1.0, 3.0], "minimize") == (2.0, 1.0, 1.0)


def test_histories_use_complete_trials_only(study: optuna.Study) -> None:
    history = study_data(study).histories[2]
    assert history.numbers == (0, 1, 2, 3)
    assert history.best == (20.0, 20.0, 10.0, 10.0)  # train_seconds is minimised


def test_importances_give_a_note_when_too_few_trials(study: optuna.Study) -> None:
    importances = study_data(study).importances
    assert len(importances) == 3
    assert all(not i.importances and "at least" in (i.note or "") for i in importances)


def _study_where_x_matters(n_trials: int) -> optuna.Study:
    rng = np.random.default_rng(0)
    study = optuna.create_study(directions=["maximize", "minimize"])
    dists = {"x": optuna.distributions.FloatDistribution(0.0, 1.0),
             "noise": optuna.distributions.FloatDistribution(0.0, 1.0)}
    for x, noise in rng.uniform(size=(n_trials, 2)):
        study.add_trial(optuna.trial.create_trial(
            params={"x": float(x), "noise": float(noise)}, distributions=dists,
            values=[float(x), float(x) + 0.01 * float(noise)],
        ))
    return study


def test_importances_rank_the_parameter_that_sets_the_objective_first() -> None:
    study = _study_where_x_matters(2 * MIN_TRIALS_FOR_IMPORTANCE)
    objectives = (ObjectiveInfo("a", "maximize"), ObjectiveInfo("b", "minimize"))
    for importance in param_importances(study, objectives):
        assert importance.note is None
        assert importance.importances["x"] > importance.importances["noise"]


def test_importances_follow_the_direction_of_each_objective() -> None:
    # PED-ANOVA favours low targets; maximised objectives are negated. Trials that are best for
    # "a" (high x) all have noise < 0.5, so noise matters for maximising and not for minimising.
    study = optuna.create_study(directions=["maximize"])
    dists = {"x": optuna.distributions.FloatDistribution(0.0, 1.0),
             "noise": optuna.distributions.FloatDistribution(0.0, 1.0)}
    rng = np.random.default_rng(1)
    n_trials = 2 * MIN_TRIALS_FOR_IMPORTANCE
    for i in range(n_trials):
        x = i / n_trials
        noise = rng.uniform(0.0, 0.1) if x > 0.8 else rng.uniform(0.0, 1.0)
        study.add_trial(optuna.trial.create_trial(params={"x": x, "noise": float(noise)}, distributions=dists,
                                                  values=[x]))
    as_max = param_importances(study, (ObjectiveInfo("a", "maximize"),))[0].importances
    as_min = param_importances(study, (ObjectiveInfo("a", "minimize"),))[0].importances
    assert as_max["noise"] > as_min["noise"]


def test_single_objective_study_without_metric_names() -> None:
    study = optuna.create_study(direction="minimize")
    study.optimize(lambda t: t.suggest_float("x", -1.0, 1.0) ** 2, n_trials=3)
    data = study_data(study)
    assert data.objectives == (ObjectiveInfo("objective 0", "minimize"),)
    assert [r.number for r in data.pareto] == [study.best_trial.number]


def test_intermediate_series_fall_back_to_the_pruning_twin() -> None:
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(study_name="s", storage=storage, directions=["maximize", "minimize"])
    companion = optuna.create_study(study_name="s.pruning", storage=storage)
    twin = companion.ask()
    twin.report(2.5, 1)
    trial = study.ask()
    trial.set_user_attr("pruning_twin", twin.number)
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    assert study_data(study).series == ()
    assert [(s.number, s.steps, s.values) for s in study_data(study, companion).series] == [(0, (1,), (2.5,))]
