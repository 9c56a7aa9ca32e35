"""Eight worker processes on one PostgreSQL study, over a hundred stub trials: none lost, duplicated or stuck.

The trials are stubs that return at once, so the storage is what is under load. The figures
are printed (run with ``-s`` to see them); nothing here is timed as an assertion.

    LORA_STUDY_TEST_POSTGRES=postgresql://... pytest -s tests/study/optimize/test_workers_load.py
"""

from __future__ import annotations

import time
from collections import Counter

import optuna
import pytest
from optuna.trial import TrialState

from study.optimize.storage import open_storage

pytestmark = pytest.mark.slow

WORKERS = 8
TOTAL = 120  # 15 a worker: enough for every worker to ask while others tell


def test_eight_workers_run_each_trial_once(postgres_url, stub_command, tmp_path):
    log = tmp_path / "ran.log"
    started = time.perf_counter()
    proc = stub_command("--storage", postgres_url, "--study-name", "s", "--sampler", "random",
                        "--workers", str(WORKERS), "--trials", str(TOTAL), "--total-trials", str(TOTAL), log=log)
    out, err = proc.communicate(timeout=600)
    wall = time.perf_counter() - started
    assert proc.returncode == 0, err[-3000:]

    storage = open_storage(postgres_url, heartbeat_seconds=None)
    trials = optuna.load_study(study_name="s", storage=storage).trials
    twins = optuna.load_study(study_name="s.pruning", storage=storage).trials
    states = Counter(t.state for t in trials)
    assert set(states) == {TrialState.COMPLETE}, states  # nothing failed, stuck RUNNING or left WAITING
    # Workers check the count before each ask; those that ask at the same moment may each add one.
    assert TOTAL <= len(trials) <= TOTAL + WORKERS - 1
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert [t.state for t in twins] == [TrialState.COMPLETE] * len(trials)
    assert sorted(t.user_attrs["trial_number"] for t in twins) == list(range(len(trials)))
    ran = [line.split() for line in log.read_text().splitlines()]
    assert len(ran) == len(trials), "each trial ran exactly once"
    learning_rates = Counter(float(lr) for _, lr in ran)
    assert learning_rates == Counter(t.params["training.learning_rate"] for t in trials)
    workers = Counter(pid for pid, _ in ran)
    assert len(workers) == WORKERS

    first = min(t.datetime_start for t in trials)
    last = max(t.datetime_complete for t in trials)
    busy = (last - first).total_seconds()
    print(
        f"\n{WORKERS} workers, PostgreSQL: {len(trials)} stub trials (+{len(trials)} pruning twins) in {busy:.1f} s "
        f"from first ask to last tell = {len(trials) / busy:.1f} trials/s; {wall:.1f} s with process start-up; "
        f"{len(trials) - TOTAL} over --total-trials {TOTAL}; trials per worker {sorted(workers.values())}"
    )
