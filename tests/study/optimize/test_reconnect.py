"""A worker whose PostgreSQL server stops and starts again mid-study waits for it and goes on.

The server is a throw-away one of this module's own (``benchmarks/_postgres.py``, as
``.ci/run`` starts one): the server of LORA_STUDY_TEST_POSTGRES is shared by other tests and
must not be stopped. Runs where that variable is set (PostgreSQL tests are wanted) and the
server programs are installed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import optuna
import pytest
from optuna.trial import TrialState

from study.optimize.storage import open_storage

pytestmark = pytest.mark.slow
OUTAGE_SECONDS = 3  # the server stays down this long after the worker first met the outage: it retries


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[object]:
    from conftest import POSTGRES_ENV

    from benchmarks._postgres import PostgresUnavailable, ThrowawayPostgres

    if not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"{POSTGRES_ENV} is not set (.ci/run starts a throw-away PostgreSQL server)")
    pytest.importorskip("psycopg")
    try:
        server = ThrowawayPostgres()
        server.start()
    except (PostgresUnavailable, OSError) as exc:
        pytest.skip(f"cannot start a PostgreSQL server of this test's own: {exc}")
    yield server
    server.stop()


def trials_in(url: str, state: TrialState) -> int:
    try:
        study = optuna.load_study(study_name="s", storage=open_storage(url, heartbeat_seconds=None))
    except KeyError:  # not created yet
        return 0
    return sum(t.state == state for t in study.trials)


def test_a_worker_outlasts_a_database_restart(own_postgres, stub_command, wait_for, tmp_path):
    # The test says when the worker's first trial ends (its file gate), so the worker meets the outage
    # however fast or slow the machine: it is inside that trial when the server goes down, its next
    # call (the trial's result) finds no server, and the server comes back only once the worker said so.
    url, gate = own_postgres.url, tmp_path / "gate"
    proc = stub_command("--storage", url, "--study-name", "s", "--heartbeat", "5", "--sampler", "random",
                        "--trials", "4", trial=f"wait:{gate}")
    err_lines: list[str] = []
    reader = threading.Thread(target=lambda: err_lines.extend(proc.stderr), daemon=True)
    reader.start()
    wait_for(lambda: trials_in(url, TrialState.RUNNING) == 1)
    own_postgres.down()
    gate.touch()
    wait_for(lambda: any("storage: lost the database connection" in line for line in err_lines))
    time.sleep(OUTAGE_SECONDS)  # the worker goes on retrying while the server stays down
    own_postgres.up()
    assert proc.wait(timeout=300) == 0
    reader.join(timeout=60)
    err = "".join(err_lines)
    assert "Traceback" not in err, err[-3000:]
    assert err.count("storage: lost the database connection") == 1, err  # logged once, not once per attempt
    assert "storage: reconnected after" in err
    study = optuna.load_study(study_name="s", storage=open_storage(url, heartbeat_seconds=None))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4


def test_a_query_cancelled_by_ctrl_c_is_not_taken_for_a_lost_connection():
    psycopg = pytest.importorskip("psycopg")
    from sqlalchemy import exc as sa

    from study.optimize.reconnect import is_connection_error

    cancelled = sa.OperationalError("UPDATE trials ...", {}, psycopg.errors.QueryCanceled("canceling statement"))
    assert not is_connection_error(cancelled)
    assert is_connection_error(sa.OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed")))


def test_a_sqlite_file_that_cannot_be_written_fails_at_once_and_a_busy_one_is_waited_for():
    # No server restarts under SQLite: waiting 300 s on a read-only file only delays its one-line error.
    import sqlite3

    from sqlalchemy import exc as sa

    from study.optimize.reconnect import is_connection_error

    def wrapped(message):
        return sa.OperationalError("INSERT ...", {}, sqlite3.OperationalError(message))

    assert not is_connection_error(wrapped("attempt to write a readonly database"))
    assert not is_connection_error(wrapped("unable to open database file"))
    assert is_connection_error(wrapped("database is locked"))
