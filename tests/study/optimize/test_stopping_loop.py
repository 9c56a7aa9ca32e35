"""The study loop with a stopping rule: it stops, says why, records it; --no-stop, resume and other workers.

Stub trials all score the same on every question, so no trial beats another by more than the
noise and the patience rule stops at the first trial it may: ``max(min_trials, patience + 1)``.
"""

from __future__ import annotations

from dataclasses import replace

import optuna
from stubs import StubTrials, make_runner

from study.core.settings import StopSettings
from study.optimize import stopping

RULE = StopSettings(rule="patience", min_trials=4, patience=3)


def fine_tunes(study: optuna.Study) -> int:
    return sum(1 for t in study.get_trials(deepcopy=False) if "reference" not in t.user_attrs)


def with_rule(runner, rule):
    runner.settings = replace(runner.settings, stop=rule, pruner="none")
    return runner


def test_the_study_stops_when_no_trial_beats_the_best_says_why_and_records_it(rdb_url, qa_file, capsys):
    runner = with_rule(make_runner(rdb_url, qa_file, StubTrials()), RULE)
    runner.run(10)
    assert fine_tunes(runner.study) == 4
    out = capsys.readouterr().out
    assert "stopping after 4 trials: none of the last 3 finished trials beat the best" in out
    stored = runner.study.user_attrs[stopping.STOP]
    assert stored["stop"] and stored["finished"] == 4 and stored["rule"] == "patience"
    assert runner.study.user_attrs["stop_curve"]["4"]["estimate"] == 3.0  # the report's stopping curve
    from optuna_dashboard._note import get_note_from_system_attrs

    note = get_note_from_system_attrs(runner.study._storage.get_study_system_attrs(runner.study._study_id), None)["body"]
    assert "**Stopping.** The study stopped itself after 4 finished trials: rule `patience`" in note


def test_without_a_rule_every_trial_runs(rdb_url, qa_file):
    runner = with_rule(make_runner(rdb_url, qa_file, StubTrials()), None)  # what --no-stop sets
    runner.run(6)
    assert fine_tunes(runner.study) == 6
    assert stopping.STOP not in runner.study.user_attrs


def test_another_worker_stops_on_the_stored_decision_and_a_resumed_study_decides_again(rdb_url, qa_file, capsys):
    with_rule(make_runner(rdb_url, qa_file, StubTrials()), RULE).run(10)
    # a worker mid-run (not fresh) takes the stored decision, even where its own rule would go on
    study = optuna.load_study(study_name="s", storage=rdb_url)
    later = stopping.check(study, replace(RULE, min_trials=50), [("rougeL", True)])
    assert later is not None and later.finished == 4
    # a resumed study with the same rule decides again, the same way: it stops before any trial
    again = with_rule(make_runner(rdb_url, qa_file, StubTrials()), RULE)
    again.run(10)
    assert fine_tunes(again.study) == 4
    # resumed with a rule that no longer stops: the old decision is cleared and trials run up to its stop
    resumed = with_rule(make_runner(rdb_url, qa_file, StubTrials()), replace(RULE, min_trials=6))
    resumed.run(10)
    assert fine_tunes(resumed.study) == 6
    assert resumed.study.user_attrs[stopping.STOP]["finished"] == 6
    assert "stopping after 6 trials" in capsys.readouterr().out


def test_no_stop_turns_the_spaces_rule_off_and_explain_lists_the_rules_keys(capsys):
    from search_spaces import load_space
    from study.run import _settings, main, parse_args

    space = load_space("default")
    assert space.settings.stop is not None
    assert _settings(space, parse_args([])).stop == space.settings.stop
    assert _settings(space, parse_args(["--no-stop"])).stop is None
    assert main(["--explain"]) == 0
    assert "study.stop: When a study stops on its own" in capsys.readouterr().out


def test_judged_on_the_front_the_study_names_the_objectives_it_judged(rdb_url, qa_file, capsys):
    runner = with_rule(make_runner(rdb_url, qa_file, StubTrials()), replace(RULE, judge="front"))
    runner.run(10)
    assert fine_tunes(runner.study) == 4
    # train_seconds, the third objective, has no per-question scores: it is not judged
    assert ("stopping after 4 trials: none of the last 3 finished trials improved the Pareto front of rougeL, "
            "bertscore_f1 by more than the noise") in capsys.readouterr().out
