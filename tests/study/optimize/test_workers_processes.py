"""Workers as separate processes: killed mid-trial, interrupted with Ctrl-C, started with --workers.

A worker started by --workers handles the Ctrl-C its parent passes on with the same code as
a worker started by hand; tests/study/commands/test_run_cli.py checks what a lone worker prints.

The stub worker (``stub_worker.py``) is ``python -m study.run`` with stub trials; one test runs
the real command with the tiny model. Storages are real: PostgreSQL when
LORA_STUDY_TEST_POSTGRES is set, SQLite or a journal file otherwise.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import optuna
import pytest
from clock import age_running_trials
from optuna.trial import TrialState

from study.optimize.storage import open_storage

pytestmark = pytest.mark.slow


def trials(url: str, name: str = "s") -> list[optuna.trial.FrozenTrial]:
    try:
        return optuna.load_study(study_name=name, storage=open_storage(url, heartbeat_seconds=None)).trials
    except KeyError:  # not created yet
        return []


def running(url: str, n: int):
    def condition() -> bool:
        """trials RUNNING, with their pruning twins (the trial function has started)"""
        return all(sum(t.state == TrialState.RUNNING for t in trials(url, name)) >= n for name in ("s", "s.pruning"))

    return condition


def finish(proc: subprocess.Popen, timeout: float = 180) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_a_worker_killed_mid_trial_has_its_trial_failed_and_rerun_by_the_next(rdb_url, stub_command, wait_for):
    flags = ["--storage", rdb_url, "--study-name", "s", "--heartbeat", "1", "--sampler", "random"]
    doomed = stub_command(*flags, "--trials", "1", trial="hang")
    wait_for(running(rdb_url, 1))
    doomed.kill()  # SIGKILL: no clean-up at all
    finish(doomed)
    [lost] = trials(rdb_url)
    assert lost.state == TrialState.RUNNING
    # Its heartbeat goes stale after the grace period, 2 x --heartbeat 1 s; a worker that asks
    # sooner rightly leaves it alone. The storage's clock is moved past it instead of waiting.
    age_running_trials(open_storage(rdb_url), 2.5)
    code, out, err = finish(stub_command(*flags, "--trials", "2"))
    assert code == 0, err
    assert f"trial   {lost.number} FAIL      its worker sent no heartbeat" in out
    assert f"(retry of trial {lost.number})" in out
    done = trials(rdb_url)
    assert [t.state.name for t in done] == ["FAIL", "COMPLETE", "COMPLETE"]
    assert done[1].params == lost.params and done[2].params != lost.params
    assert [t.state.name for t in trials(rdb_url, "s.pruning")] == ["FAIL", "COMPLETE", "COMPLETE"]


def test_ctrl_c_reaches_every_worker_through_their_parent(shared_url, stub_command, wait_for):
    proc = stub_command("--storage", shared_url, "--study-name", "s", "--workers", "2", "--trials", "3", trial="hang")
    wait_for(running(shared_url, 2))
    proc.send_signal(signal.SIGINT)
    code, out, err = finish(proc)
    assert code == 130, err
    assert "Resume with the same command (study 's' in" in err and "Traceback" not in err
    assert [t.state for t in trials(shared_url)] == [TrialState.FAIL] * 2
    assert {t.user_attrs["fail_reason"] for t in trials(shared_url)} == {"interrupted (Ctrl-C)"}
    assert [t.state for t in trials(shared_url, "s.pruning")] == [TrialState.FAIL] * 2
    assert "FAIL      interrupted (Ctrl-C)" in out and "[0] trial" in out and "[1] trial" in out


def test_a_worker_started_with_sigint_ignored_still_stops_on_the_sigint_its_parent_sends(rdb_url, stub_command,
                                                                                        wait_for):
    # A background job's shell starts it with SIGINT ignored (CI runners, nohup, `&` in a script), and its
    # workers inherit that: the parent's Ctrl-C was lost, and the study never stopped.
    from conftest import as_a_background_job

    proc = stub_command("--storage", rdb_url, "--study-name", "s", "--trials", "3", "--workers", "1",
                        "--worker-id", "0", trial="hang", signals=as_a_background_job)
    wait_for(running(rdb_url, 1))
    proc.send_signal(signal.SIGINT)
    try:
        code, _, err = finish(proc, timeout=60)
    finally:
        proc.kill()
    assert code == 130, err
    assert [t.user_attrs.get("fail_reason") for t in trials(rdb_url)] == ["interrupted (Ctrl-C)"]


def test_sigterm_ends_a_lone_worker_like_ctrl_c_and_the_study_resumes(rdb_url, stub_command, wait_for):
    # kill, systemd and docker stop send SIGTERM; a study in the background ignores SIGINT
    flags = ["--storage", rdb_url, "--study-name", "s", "--trials", "2"]
    proc = stub_command(*flags, trial="hang")
    wait_for(running(rdb_url, 1))
    proc.send_signal(signal.SIGTERM)
    code, _, err = finish(proc, timeout=60)
    assert code == 130, err
    assert "Resume with the same command" in err and "Traceback" not in err
    assert [t.user_attrs.get("fail_reason") for t in trials(rdb_url)] == ["interrupted (Ctrl-C)"]
    code, _, err = finish(stub_command(*flags))
    assert code == 0, err
    assert [t.state.name for t in trials(rdb_url)] == ["FAIL", "COMPLETE", "COMPLETE"]


def test_two_real_workers_share_a_study(shared_url, tiny_model_dir, qa_file, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "study.run", "--space", "smoke", "--model", str(tiny_model_dir), "--data", str(qa_file),
         "--storage", shared_url, "--study-name", "s", "--workers", "2", "--trials", "1", "--no-progress",
         "--set", "training.epochs=1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    everything = trials(shared_url)
    base = [t for t in everything if t.user_attrs.get("reference") == "base"]
    done = [t for t in everything if t not in base]
    assert [t.state.name for t in done] == ["COMPLETE", "COMPLETE"]
    assert done[0].params != done[1].params  # each worker's sampler has its own seed
    assert "[0] worker done: 1 complete" in proc.stdout and "[1] worker done: 1 complete" in proc.stdout
    # Both workers start by looking for the base model's trial: it is scored once, by one of them.
    assert [t.state.name for t in base if t.state.name != "FAIL"] == ["COMPLETE"]
    assert all("duplicate" in t.user_attrs["fail_reason"] for t in base if t.state.name == "FAIL")
    fails = len(base) - 1
    assert f"study 's': {3 + fails} trials ({3} complete, 0 pruned, {fails} fail)" in proc.stdout
