"""Opening storages, refusing bad ones in one line, and what several workers need from them."""

from __future__ import annotations

import threading

import optuna
import pytest
from optuna.trial import TrialState

from objectives import parse_objectives
from study.core.errors import StudyError
from study.optimize.samplers import sampler_seed
from study.optimize.storage import (
    CONNECT_TIMEOUT_SECONDS,
    _engine_kwargs,
    check_shareable,
    counted_trials,
    create_or_resume,
    open_storage,
    redact,
)

OBJECTIVES = parse_objectives(["rougeL:max", "train_seconds:min"])


def test_postgresql_urls_use_psycopg3(postgres_url):
    storage = open_storage(postgres_url)
    assert storage.url.startswith("postgresql+psycopg://")
    assert storage.get_heartbeat_interval() == 60


def test_unreachable_postgres_server_stops_with_one_line():
    with pytest.raises(StudyError, match=r"--storage postgresql://lora:\*\*\*@127\.0\.0\.1:1/x: cannot open \(.*") as err:
        open_storage("postgresql://lora:secret@127.0.0.1:1/x")
    assert "secret" not in err.value.message and "\n" not in err.value.message
    # a host that stays silent is given up after connect_timeout, not after the system's minutes
    assert _engine_kwargs("postgresql://u@h/db")["connect_args"] == {"connect_timeout": CONNECT_TIMEOUT_SECONDS}


def test_missing_database_on_the_server_is_named(postgres_url):
    url = postgres_url.replace("/lora_test_", "/no_such_db_")
    with pytest.raises(StudyError, match="cannot open .*no_such_db_"):
        open_storage(url)


def test_redact_hides_passwords_only():
    assert redact("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("postgresql://u@/db?host=/tmp/pg") == "postgresql://u@/db?host=/tmp/pg"
    assert redact("sqlite:///studies/x.db") == "sqlite:///studies/x.db"
    assert redact("journal:///tmp/x.log") == "journal:///tmp/x.log"


def test_sqlite_is_refused_for_several_workers_only():
    check_shareable("sqlite:///studies/x.db", workers=1)
    check_shareable("postgresql://u@h/db", workers=8)
    check_shareable("journal:///shared/x.log", workers=8)
    with pytest.raises(StudyError, match="SQLite locks up under several writers; use --storage postgresql://.* or --storage journal:///"):
        check_shareable("sqlite:///studies/x.db", workers=2)


def test_workers_starting_together_on_an_empty_database_all_open_it(postgres_url):
    # Each worker creates Optuna's tables if they are missing; PostgreSQL lets only one win.
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            storage = open_storage(postgres_url)
            create_or_resume(storage, "s", OBJECTIVES, optuna.samplers.RandomSampler(), attrs={"space": "x"})
        except BaseException as exc:  # collected, reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [s.study_name for s in optuna.get_all_study_summaries(open_storage(postgres_url))] == ["s"]


def test_a_study_whose_metric_names_are_not_set_yet_is_resumed(rdb_url):
    # Another worker has created the study and not yet named its metrics.
    optuna.create_study(study_name="s", storage=rdb_url, directions=["maximize", "minimize"])
    study = create_or_resume(open_storage(rdb_url), "s", OBJECTIVES, optuna.samplers.RandomSampler(), attrs={})
    assert study.metric_names == ["rougeL", "train_seconds"]


def test_a_study_with_other_directions_is_refused(rdb_url):
    optuna.create_study(study_name="s", storage=rdb_url, directions=["minimize", "minimize"])
    with pytest.raises(StudyError, match="exists with objectives rougeL:min,train_seconds:min"):
        create_or_resume(open_storage(rdb_url), "s", OBJECTIVES, optuna.samplers.RandomSampler(), attrs={})


def test_sampler_seed_continues_on_sqlite_and_is_random_on_shared_storages(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    storage = open_storage(url, heartbeat_seconds=None)
    assert sampler_seed(7, url, storage, "s") == 7
    study = optuna.create_study(study_name="s", storage=storage)
    for _ in range(3):
        study.tell(study.ask(), 1.0)
    assert sampler_seed(7, url, storage, "s") == 10  # a resumed study does not propose its first configurations again
    assert sampler_seed(7, "postgresql://u@h/db", storage, "s") is None


def test_counted_trials_replace_a_dead_workers_trial_by_its_retry():
    study = optuna.create_study()
    for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL):
        study.add_trial(optuna.create_trial(state=state, value=1.0 if state == TrialState.COMPLETE else None))
    study.ask()  # running
    assert counted_trials(study) == 4
    study.add_trial(optuna.create_trial(state=TrialState.FAIL))  # trial 4: its worker died
    study.add_trial(optuna.create_trial(state=TrialState.WAITING, system_attrs={"failed_trial": 4, "retry_history": [4]}))
    assert counted_trials(study) == 4  # the waiting retry does not count yet, and trial 4 no longer


def test_a_resumed_study_keeps_its_checks_per_epoch(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 's.db'}")
    sampler = optuna.samplers.RandomSampler()
    keep = {"checks_per_epoch": "--checks-per-epoch"}
    create_or_resume(storage, "s", OBJECTIVES, sampler, attrs={"checks_per_epoch": 2}, unchangeable=keep)
    create_or_resume(storage, "s", OBJECTIVES, sampler, attrs={"checks_per_epoch": 2}, unchangeable=keep)
    with pytest.raises(StudyError, match="resume it with --checks-per-epoch 2"):
        create_or_resume(storage, "s", OBJECTIVES, sampler, attrs={"checks_per_epoch": 1}, unchangeable=keep)
    assert optuna.load_study(study_name="s", storage=storage).user_attrs["checks_per_epoch"] == 2
