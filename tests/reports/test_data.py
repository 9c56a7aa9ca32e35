from __future__ import annotations

import optuna
import pytest

from reports._data import study_data
from reports._rows import ObjectiveInfo


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


def test_single_objective_study_without_metric_names() -> None:
    study = optuna.create_study(direction="minimize")
    study.optimize(lambda t: t.suggest_float("x", -1.0, 1.0) ** 2, n_trials=3)
    data = study_data(study)
    assert data.objectives == (ObjectiveInfo("objective 0", "minimize"),)
    assert [r.number for r in data.pareto] == [study.best_trial.number]
