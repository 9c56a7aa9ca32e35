"""The study loop with stub trials: failures, the failure limit, --total-trials, heartbeats and dead workers.

Trials are stubs (the storage and the loop are what is tested); storages are real: PostgreSQL
when LORA_STUDY_TEST_POSTGRES is set, SQLite otherwise.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from types import SimpleNamespace
from typing import Any, Callable

import optuna
import pytest
from clock import age_running_trials
from optuna.trial import TrialState

from objectives import parse_objectives
from search_spaces import load_space
from study.core.config import DataConfig
from study.core.errors import StudyError
from study.finetune.data import load_splits
from study.optimize.loop import StudyRunner, TooManyFailures
from study.optimize.pruning import TrialPruning
from study.optimize.recovery import Heartbeat, fail_stale_trials
from study.optimize.samplers import make_sampler
from study.optimize.storage import open_storage

# These tests ask for trials by hand, as a worker's loop does; Optuna warns about heartbeats outside optimize().
pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage")
GRACE_WAIT = 3.2  # past the grace period of 2 heartbeats of 1 s (clock.age_running_trials: no real wait)


StubRunner = StudyRunner  # its trial_fn is a stub


def ok(cfg: Any, monitor: Any) -> SimpleNamespace:
    lr = cfg.training.learning_rate
    metrics = {"rougeL": lr, "bertscore_f1": 0.5, "train_seconds": 1.0, "eval_loss": 1.0}
    return SimpleNamespace(metrics=metrics, history=[metrics], predictions=[], pruned_at=None)


def raising(exc: BaseException) -> Callable[[Any, Any], Any]:
    def trial(cfg: Any, monitor: Any) -> Any:
        raise exc

    return trial


def make_runner(url: str, qa_file, trial_fn, heartbeat: int | None = 60, seed: int = 0) -> StubRunner:
    space = load_space("smoke")
    cfg = space.config({name: dim.values[0] if hasattr(dim, "values") else dim.low for name, dim in space.dimensions.items()})
    splits = load_splits(DataConfig(path=str(qa_file)))
    return StubRunner(
        space=space,
        settings=space.settings,
        objectives=parse_objectives(space.settings.objectives),
        storage=open_storage(url, heartbeat_seconds=heartbeat),
        study_name="s",
        sampler=make_sampler("random", seed),
        splits=splits,
        base_cfg=cfg,
        show_progress=False,
        trial_fn=trial_fn,
    )


def states(study: optuna.Study) -> list[str]:
    return [t.state.name for t in study.get_trials(deepcopy=False)]


def test_a_failed_trial_keeps_its_reason_and_the_study_goes_on(rdb_url, qa_file):
    calls = iter([ok, raising(ValueError("boom")), ok])
    runner = make_runner(rdb_url, qa_file, lambda cfg, monitor: next(calls)(cfg, monitor))
    runner.run(3)
    assert states(runner.study) == ["COMPLETE", "FAIL", "COMPLETE"]
    failed = runner.study.trials[1]
    assert failed.user_attrs["fail_reason"] == "ValueError: boom"
    assert "ValueError: boom" in failed.user_attrs["fail_traceback"]
    assert states(runner.pruning_study) == ["COMPLETE", "FAIL", "COMPLETE"]


def test_a_finished_trial_records_the_cpu_seconds_its_process_spent_on_it(rdb_url, qa_file):
    def busy(cfg: Any, monitor: Any) -> Any:
        sum(i * i for i in range(2_000_000))  # work on the CPU, unlike a sleep
        return ok(cfg, monitor)

    def idle(cfg: Any, monitor: Any) -> Any:
        time.sleep(0.3)  # a trial waiting on something (a judge endpoint): no CPU seconds
        return ok(cfg, monitor)

    calls = iter([busy, idle])
    runner = make_runner(rdb_url, qa_file, lambda cfg, monitor: next(calls)(cfg, monitor))
    runner.run(2)
    worked, waited = (t.user_attrs["cpu_seconds"] for t in runner.study.trials)
    assert worked > waited >= 0.0  # the busy loop's work is counted, the wait is not


def test_a_run_leaves_the_process_warning_filters_as_it_found_them(rdb_url, qa_file):
    import warnings

    before = list(warnings.filters)
    make_runner(rdb_url, qa_file, ok).run(1)
    assert warnings.filters == before  # the heartbeat warning is silenced during the run only


def test_a_diverged_trial_is_pruned_with_its_reason(rdb_url, qa_file):
    from study.core.errors import DivergedError

    runner = make_runner(rdb_url, qa_file, raising(DivergedError("training loss is nan")))
    runner.run(1)
    trial = runner.study.trials[0]
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs["fail_reason"] == "diverged: training loss is nan"


def test_a_trial_out_of_memory_fails_with_its_reason_its_memory_released_and_the_next_runs(rdb_url, qa_file,
                                                                                            monkeypatch):
    import weakref

    import torch

    from study.optimize import loop

    held: list[weakref.ref] = []

    def out_of_memory(cfg: Any, monitor: Any) -> Any:
        activations = torch.ones(1024, 1024)  # what the trial holds when CUDA gives up
        held.append(weakref.ref(activations))
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    freed_when_released: list[bool] = []
    release = loop.release_memory
    monkeypatch.setattr(loop, "release_memory", lambda: (freed_when_released.append(held[0]() is None), release()))
    calls = iter([out_of_memory, ok])
    runner = make_runner(rdb_url, qa_file, lambda cfg, monitor: next(calls)(cfg, monitor))
    runner.run(2)
    assert states(runner.study) == ["FAIL", "COMPLETE"]
    assert runner.study.trials[0].user_attrs["fail_reason"] == "out of memory"
    assert freed_when_released == [True]  # released once nothing held the trial's tensors any more


def test_a_full_artifact_disk_loses_nothing_and_warns_on_the_trial(rdb_url, qa_file, tmp_path, monkeypatch):
    import errno

    from study.optimize import dashboard

    def full(directory: Any) -> Any:
        store = real(directory)

        def write(artifact_id: str, body: Any) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        store.write = write
        return store

    real = dashboard.artifact_store
    monkeypatch.setattr(dashboard, "artifact_store", full)
    def answering(cfg: Any, monitor: Any) -> SimpleNamespace:
        return SimpleNamespace(**{**vars(ok(cfg, monitor)), "predictions": ["an answer"]})

    runner = make_runner(rdb_url, qa_file, answering)
    runner.artifact_dir = tmp_path / "artifacts"
    runner.run(2)
    assert states(runner.study) == ["COMPLETE", "COMPLETE"]
    for trial in runner.study.trials:
        assert trial.user_attrs["metrics"]["rougeL"] == trial.values[0]
        assert trial.user_attrs["artifact_warning"] == "predictions not uploaded: No space left on device"


def test_an_objective_without_a_direction_takes_its_known_one_and_the_study_note_says_so(rdb_url, qa_file):
    from optuna_dashboard._note import get_note_from_system_attrs

    runner = make_runner(rdb_url, qa_file, ok)
    runner.objectives = parse_objectives(["rougeL", "train_seconds:min"])
    runner.run(1)
    assert runner.study.directions == [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE]
    note = get_note_from_system_attrs(runner.storage.get_study_system_attrs(runner.study._study_id), None)["body"]
    assert "**Directions.** `rougeL` is maximized, its known direction: the objective named none" in note
    assert "`train_seconds` is" not in note


def test_consecutive_failures_stop_the_worker_with_the_last_reason(rdb_url, qa_file):
    calls = iter([raising(RuntimeError("a")), ok] + [raising(RuntimeError("cuda gone"))] * 10)
    runner = make_runner(rdb_url, qa_file, lambda cfg, monitor: next(calls)(cfg, monitor))
    with pytest.raises(TooManyFailures, match=r"3 trials in a row failed \(trials 2, 3, 4; the last: RuntimeError: cuda gone\)"):
        runner.run(10, max_consecutive_failures=3)
    assert states(runner.study) == ["FAIL", "COMPLETE", "FAIL", "FAIL", "FAIL"]


def test_ctrl_c_marks_the_running_trial_and_its_twin_failed(rdb_url, qa_file):
    runner = make_runner(rdb_url, qa_file, raising(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        runner.run(3)
    assert states(runner.study) == ["FAIL"]
    assert runner.study.trials[0].user_attrs["fail_reason"] == "interrupted (Ctrl-C)"
    assert states(runner.pruning_study) == ["FAIL"]


def test_total_trials_counts_every_workers_trials(rdb_url, qa_file):
    make_runner(rdb_url, qa_file, ok).run(3)  # another worker's trials
    runner = make_runner(rdb_url, qa_file, ok, seed=1)
    runner.run(10, total_trials=5)
    assert states(runner.study) == ["COMPLETE"] * 5
    assert runner.ran == {"COMPLETE": 2}


def _dead_worker_trial(url: str, qa_file) -> tuple[int, dict[str, Any]]:
    """A trial started as a worker would, with one heartbeat, then abandoned (the worker was killed)."""
    runner = make_runner(url, qa_file, ok, heartbeat=1)
    runner.open()
    trial = runner.study.ask()
    runner.space.suggest(trial)
    TrialPruning(trial, runner.pruning_study, runner.pruning_objective)
    with Heartbeat(runner.storage, trial):
        pass
    return trial.number, dict(trial.params)


def test_the_trial_of_a_dead_worker_is_failed_and_its_configuration_run_again(rdb_url, qa_file):
    number, params = _dead_worker_trial(rdb_url, qa_file)
    runner = make_runner(rdb_url, qa_file, ok, heartbeat=1, seed=1)
    age_running_trials(runner.storage, GRACE_WAIT)
    runner.run(2)
    trials = runner.study.trials
    assert states(runner.study) == ["FAIL", "COMPLETE", "COMPLETE"]
    retry = trials[1]
    assert retry.params == params and retry.user_attrs["retry_of"] == number
    assert trials[2].params != params
    assert states(runner.pruning_study) == ["FAIL", "COMPLETE", "COMPLETE"]


def test_a_trial_whose_worker_died_before_its_first_heartbeat_is_failed_and_run_again(rdb_url, qa_file):
    runner = make_runner(rdb_url, qa_file, ok, heartbeat=1)
    runner.open()
    trial = runner.study.ask()  # killed here: no heartbeat was ever written
    runner.space.suggest(trial)
    age_running_trials(runner.storage, GRACE_WAIT)
    again = make_runner(rdb_url, qa_file, ok, heartbeat=1, seed=1)
    again.run(1)
    lost, retry = runner.study.trials
    assert [lost.state.name, retry.state.name] == ["FAIL", "COMPLETE"]
    assert lost.user_attrs["fail_reason"].startswith("its worker died before its first heartbeat")
    assert retry.params == lost.params and retry.user_attrs["retry_of"] == lost.number


def test_a_stale_trial_keeps_its_reason_and_its_retry_names_it(rdb_url, qa_file):
    number, _ = _dead_worker_trial(rdb_url, qa_file)
    runner = make_runner(rdb_url, qa_file, ok, heartbeat=1, seed=1)
    age_running_trials(runner.storage, GRACE_WAIT)
    runner.run(1)
    lost, retry = runner.study.trials
    assert lost.user_attrs["fail_reason"] == "its worker sent no heartbeat for 2 s (killed?)"
    assert retry.user_attrs["retry_reason"] == f"trial {number}: its worker sent no heartbeat for 2 s (killed?)"


def test_a_configuration_that_keeps_killing_its_worker_is_not_retried_forever(rdb_url, qa_file):
    runner = make_runner(rdb_url, qa_file, ok, heartbeat=1)
    runner.open()
    requeue = runner.storage.get_heartbeat_stale_trial_callback()
    for history in ([], [0], [0, 1]):  # the original run, then each retry, died
        runner.study.add_trial(optuna.create_trial(
            state=TrialState.FAIL, system_attrs={"retry_history": history} if history else {}))
        requeue(runner.study, runner.study.trials[-1])
    assert states(runner.study) == ["FAIL", "WAITING", "FAIL", "WAITING", "FAIL"]  # three runs, no fourth
    assert [t.user_attrs for t in runner.study.trials if t.state == TrialState.WAITING] == [{"retry_of": 0}] * 2
    assert requeue.drain() == [(0, True), (2, True), (4, False)]


@pytest.mark.slow  # a real 4.5 s trial: beating while it runs is what is tested
def test_a_running_trial_keeps_beating_and_is_not_taken_for_dead(rdb_url, qa_file):
    runner = make_runner(rdb_url, qa_file, lambda cfg, monitor: (time.sleep(4.5), ok(cfg, monitor))[1], heartbeat=1)
    worker = threading.Thread(target=runner.run, args=(1,))
    worker.start()
    other = make_runner(rdb_url, qa_file, ok, heartbeat=1)
    other.open()
    while worker.is_alive():
        assert fail_stale_trials(other.study, other.storage) == []
        time.sleep(0.5)
    worker.join()
    assert states(runner.study) == ["COMPLETE"]


def test_each_worker_gets_one_gpu_round_robin_and_its_share_of_the_cores():
    import os

    from study.optimize.workers import worker_env

    envs = [worker_env(i, 3, ["4", "7"], {"PATH": "/bin"}) for i in range(3)]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["4", "7", "4"]
    assert {e["OMP_NUM_THREADS"] for e in envs} == {str(max(1, (os.cpu_count() or 1) // 3))}
    assert "CUDA_VISIBLE_DEVICES" not in worker_env(0, 2, [], {})
    assert worker_env(0, 2, [], {"OMP_NUM_THREADS": "3"})["OMP_NUM_THREADS"] == "3"  # the user's choice stays


def test_a_worker_runs_the_same_command_as_a_single_worker():
    from study.optimize.workers import worker_command
    from study.run import parse_args

    command = worker_command(["--space", "smoke", "--workers", "4", "--total-trials", "20"], index=2)
    args = parse_args(command[3:])
    assert (args.workers, args.worker_id, args.total_trials, args.no_progress) == (1, 2, 20, True)


def test_run_defaults_match_the_modules_that_use_them():
    import study.optimize.loop
    import study.optimize.storage
    import study.run

    assert study.run.MAX_CONSECUTIVE_FAILURES == study.optimize.loop.MAX_CONSECUTIVE_FAILURES
    assert study.run.HEARTBEAT_SECONDS == study.optimize.storage.HEARTBEAT_SECONDS


def test_a_resumed_study_keeps_the_metric_its_pruner_compares(rdb_url, qa_file):
    make_runner(rdb_url, qa_file, ok).run(2)  # prunes on eval_loss: its twin holds eval_loss values
    resumed = make_runner(rdb_url, qa_file, ok)
    resumed.settings = dataclasses.replace(resumed.settings, pruning_metric="rougeL")
    with pytest.raises(StudyError, match="ran with pruning_metric eval_loss, not rougeL: resume it with "
                                         "--pruning-metric eval_loss"):
        resumed.run(1)
    runner = make_runner(rdb_url, qa_file, ok)  # as it was: it goes on, nothing was lost
    runner.run(1)
    assert states(runner.study) == ["COMPLETE"] * 3 and runner.study.user_attrs["pruning_metric"] == "eval_loss"


def test_a_study_that_never_pruned_may_start_pruning_on_another_metric(rdb_url, qa_file):
    first = make_runner(rdb_url, qa_file, ok)
    first.settings = dataclasses.replace(first.settings, pruner="none")
    first.run(1)
    runner = make_runner(rdb_url, qa_file, ok)
    runner.settings = dataclasses.replace(runner.settings, pruning_metric="rougeL")
    runner.run(1)
    assert states(runner.study) == ["COMPLETE"] * 2 and runner.study.user_attrs["pruning_metric"] == "rougeL"
