"""The base model as a point of every study: scored once, first, and left alone by every sampler.

Trials are stubs whose per-question scores are known; storages are real (PostgreSQL when
LORA_STUDY_TEST_POSTGRES is set, else SQLite or a journal file).
"""

from __future__ import annotations

import threading

import optuna
import pytest
from optuna.trial import TrialState
from clock import age_running_trials
from stubs import BASE_ROUGE, QUESTIONS, StubRunner, StubTrials, make_runner

from study.optimize.recovery import fail_stale_trials
from study.optimize.reference import claim_base, completed_base
from study.optimize.storage import counted_trials, open_storage

pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage")
@pytest.mark.parametrize("sampler", ["tpe", "nsga2", "gp", "random", "grid"])
def test_the_base_model_comes_first_and_every_sampler_goes_on_after_it(tmp_path, qa_file, sampler):
    runner = make_runner(f"sqlite:///{tmp_path / 's.db'}", qa_file, StubTrials(), sampler=sampler)
    n = 12  # past TPE's 8 and GP's 10 start-up trials and NSGA-II's first generation of 10
    runner.run(n)
    trials = runner.study.get_trials(deepcopy=False)
    base, tuned = trials[0], trials[1:]
    assert base.user_attrs["reference"] == "base" and base.state == TrialState.COMPLETE and not base.params
    assert base.values == pytest.approx([sum(BASE_ROUGE) / QUESTIONS, 0.5, 0.0])
    assert base.number in [t.number for t in runner.study.best_trials]  # no training time: on the front
    expected = 6 if sampler == "grid" else n  # the grid has 6 points; the loop stops when they have run
    assert len(tuned) == expected and all(t.state == TrialState.COMPLETE and t.params for t in tuned)
    assert counted_trials(runner.study) == expected  # the base does not count toward --total-trials


def test_trials_record_intervals_and_their_gain_over_the_base(rdb_url, qa_file):
    runner = make_runner(rdb_url, qa_file, StubTrials(gain=0.2))
    runner.run(2)
    base = completed_base(runner.study)
    assert base.user_attrs["per_question"]["rougeL"] == pytest.approx(BASE_ROUGE)
    for t in runner.study.get_trials(deepcopy=False)[1:]:
        interval = t.user_attrs["intervals"]["rougeL"]
        assert interval["low"] < t.user_attrs["metrics"]["rougeL"] < interval["high"]
        gain = t.user_attrs["gain_vs_base"]["rougeL"]
        assert gain["gain"] == pytest.approx(0.2) and gain["significant"]
        assert gain["gain_ci95"] == pytest.approx([0.2, 0.2])  # the same gain on every question
        assert gain["p_value"] < 0.01 and gain["questions"] == QUESTIONS
        assert t.user_attrs["gain_vs_base"]["bertscore_f1"]["gain"] == 0.0
        assert not t.user_attrs["gain_vs_base"]["bertscore_f1"]["significant"]


def test_a_resumed_study_does_not_score_the_base_again(rdb_url, qa_file):
    trials = StubTrials()
    make_runner(rdb_url, qa_file, trials).run(2)
    make_runner(rdb_url, qa_file, trials, seed=1).run(2)
    study = optuna.load_study(study_name="s", storage=rdb_url)
    assert trials.base_calls == 1
    assert [t.user_attrs.get("reference") for t in study.trials] == ["base", None, None, None, None]


def test_workers_starting_together_score_the_base_once(shared_url, qa_file):
    trials = StubTrials(base_seconds=0.5)
    runners = [make_runner(shared_url, qa_file, trials, seed=i) for i in range(3)]
    runners[0].open()  # as run.py does before it starts workers
    start = threading.Barrier(len(runners))

    def work(runner: StubRunner) -> None:
        start.wait()
        runner.run(2)

    threads = [threading.Thread(target=work, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    study = optuna.load_study(study_name="s", storage=open_storage(shared_url))
    base = [t for t in study.trials if t.user_attrs.get("reference") == "base"]
    assert trials.base_calls == 1
    assert [t.state for t in base if t.state != TrialState.FAIL] == [TrialState.COMPLETE]
    assert all("duplicate" in t.user_attrs["fail_reason"] for t in base if t.state == TrialState.FAIL)
    assert sum("reference" not in t.user_attrs and t.state == TrialState.COMPLETE for t in study.trials) == 6


def test_a_second_claim_of_the_base_is_a_duplicate(rdb_url):
    study = optuna.create_study(study_name="c", storage=open_storage(rdb_url), directions=["maximize"])
    first, second = claim_base(study), claim_base(study)
    assert first is not None and first.number == 0 and second is None
    assert study.trials[1].state == TrialState.FAIL and "trial 0" in study.trials[1].user_attrs["fail_reason"]


def test_a_base_trial_whose_worker_died_is_scored_again_not_requeued(rdb_url, qa_file):
    storage = open_storage(rdb_url, heartbeat_seconds=1)
    study = optuna.create_study(study_name="s", storage=storage, directions=["maximize", "maximize", "minimize"])
    dead = claim_base(study)
    storage.record_heartbeat(dead._trial_id)  # it beat once, then its worker was killed
    age_running_trials(storage, 3.2)  # past the grace period of 2 beats, without the wait
    fail_stale_trials(study, storage)
    assert study.trials[0].state == TrialState.FAIL
    assert not [t for t in study.trials if t.state == TrialState.WAITING]  # not queued through the sampler
    trials = StubTrials()
    make_runner(rdb_url, qa_file, trials, heartbeat=1).run(1)
    assert trials.base_calls == 1 and completed_base(optuna.load_study(study_name="s", storage=rdb_url)).number == 1


def test_the_base_model_is_announced_above_the_progress_bar(tmp_path, qa_file, capsys):
    runner = make_runner(f"sqlite:///{tmp_path / 's.db'}", qa_file, StubTrials())
    runner.show_progress = True  # what a user sees without --no-progress
    runner.run(1)
    assert "(the base model, untuned" in capsys.readouterr().out
