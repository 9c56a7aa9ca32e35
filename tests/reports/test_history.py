from __future__ import annotations

import optuna
import pytest

from reports import study_data
from reports._history import figure as history_figure
from reports._history import running_best


def test_running_best_follows_the_direction() -> None:
    assert running_best([2.0, 1.0, 3.0], "maximize") == (2.0, 2.0, 3.0)
    assert running_best([2.0, 1.0, 3.0], "minimize") == (2.0, 1.0, 1.0)


def test_histories_use_complete_trials_only(study: optuna.Study) -> None:
    history = study_data(study).histories[2]
    assert history.numbers == (0, 1, 2, 3)
    assert history.best == (20.0, 20.0, 10.0, 10.0)  # train_seconds is minimised


def test_histories_carry_each_trials_interval_and_the_base_models_value(liver_study) -> None:
    study, pruning = liver_study
    rouge = study_data(study, pruning).histories[0]
    assert 0 not in rouge.numbers and 8 not in rouge.numbers  # the base model and the pruned trial
    assert rouge.base == study.trials[0].values[0]
    base_interval = study.trials[0].user_attrs["intervals"]["rougeL"]
    assert rouge.base_interval == (base_interval["low"], base_interval["high"])
    for number, low, high in zip(rouge.numbers, rouge.low, rouge.high):
        stored = study.trials[number].user_attrs["intervals"]["rougeL"]
        assert (low, high) == (stored["low"], stored["high"])
    assert rouge.best[-1] == max(t.values[0] for t in study.trials[1:8])  # the base model never counts as best


def test_history_figure_draws_error_bars_and_a_base_model_line(liver_study) -> None:
    study, pruning = liver_study
    data = study_data(study, pruning)
    fig = history_figure(data.histories).figure
    trials = [t for t in fig.data if t.name == "trial"]
    h = data.histories[1]  # length_error
    assert list(trials[1].error_y.array) == pytest.approx([hi - v for v, hi in zip(h.values, h.high)])
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert sorted(s.y0 for s in lines) == sorted(study.trials[0].values)
    assert [a.text for a in fig.layout.annotations].count("base model") == 2


def test_history_of_an_old_study_has_no_base_line_nor_error_bars(study: optuna.Study) -> None:
    fig = history_figure(study_data(study).histories).figure
    assert not fig.layout.shapes and "base model" not in [a.text for a in fig.layout.annotations]
    assert all(t.error_y.array is None for t in fig.data)
