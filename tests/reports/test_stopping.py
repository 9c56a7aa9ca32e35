"""The stopping curve: best so far with its interval after each finished fine-tune, and the rule's estimates."""

from __future__ import annotations

import optuna

from reports import study_data
from reports._stopping import figure, table


def test_the_curve_follows_the_best_so_far_and_the_rules_recorded_estimates(liver_study) -> None:
    shared, pruning = liver_study
    memory = optuna.storages.InMemoryStorage()  # the fixture's study is shared by other tests: change a copy
    optuna.copy_study(from_study_name=shared.study_name, from_storage=shared._storage, to_storage=memory)
    study = optuna.load_study(study_name=shared.study_name, storage=memory)
    study.set_user_attr("stop_curve", {"6": {"best": 4, "estimate": 2.0, "noise": None, "rule": "patience"},
                                       "8": {"best": 4, "estimate": 4.0, "noise": None, "rule": "patience"}})
    study.set_user_attr("stop", {"stop": True, "rule": "patience", "finished": 8, "best": 4, "estimate": 4.0,
                                 "noise": None, "reason": "none of the last 4 finished trials beat the best"})
    s = study_data(study, pruning).analyses.stopping
    assert s.finished == tuple(range(1, 9))  # trials 1-8 (8 pruned); the base model (0) is not a trial
    values = {t.number: t.values[0] for t in study.trials[1:8]}
    assert s.best == tuple(max(values[n] for n in range(1, min(k, 7) + 1)) for k in range(1, 9))
    best_interval = study.trials[4].user_attrs["intervals"]["rougeL"]
    assert (s.low[-1], s.high[-1]) == (best_interval["low"], best_interval["high"])  # trial 4 is the best
    assert s.curve == ((6, 2.0, None, "patience"), (8, 4.0, None, "patience"))
    block = figure(s)
    assert block.figure is not None and len(block.figure.layout.shapes) == 2  # the stop, in both rows
    assert "stopped itself after 8 finished trials" in table(s)


def test_a_study_without_a_rule_shows_its_best_so_far_and_says_why_there_is_no_estimate(liver_study) -> None:
    study, pruning = liver_study
    s = study_data(study, pruning).analyses.stopping
    assert s.curve == () and s.decision is None and "no stopping rule" in s.note
    assert table(s) is None and figure(s).figure is not None
