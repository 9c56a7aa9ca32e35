"""A SQL storage that waits out a database restart instead of failing the worker's trial.

A worker holds its storage through hours of trials; the server may restart under it (an
upgrade, a fail-over, ``pg_ctl restart``). SQLAlchemy's ``pool_pre_ping`` replaces the
connections that died once the server is back; while it is down, every call fails. Here each
call of the storage is retried with growing pauses (0.2 s doubling to 5 s) for up to
``RECONNECT_SECONDS`` when its error is a lost or refused connection, and the worker prints
one line when the connection is lost and one when it is back, not one per attempt. Other
errors are raised at once.

A call whose connection dropped during its commit may have been stored: retrying
``create_new_trial`` then adds a second trial, which never beats and is failed and queued
again like the trial of a dead worker (:mod:`study.optimize.recovery`); retrying
``set_trial_state_values`` raises ``UpdateFinishedTrialError``, which the loop reports.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import optuna

RECONNECT_SECONDS = 300.0  # a restart takes seconds; a server gone for longer is a problem to report
FIRST_PAUSE_SECONDS = 0.2
LONGEST_PAUSE_SECONDS = 5.0
# Every storage call of the study loop, the heartbeat thread and the recovery (a nested one is retried at the top).
RETRIED = (
    "create_new_study", "delete_study", "set_study_user_attr", "set_study_system_attr", "get_study_id_from_name",
    "get_study_name_from_id", "get_study_directions", "get_study_user_attrs", "get_study_system_attrs",
    "get_all_studies", "create_new_trial", "set_trial_param", "get_trial_id_from_study_id_trial_number",
    "get_trial_number_from_id", "get_trial_param", "set_trial_state_values", "set_trial_intermediate_value",
    "set_trial_user_attr", "set_trial_system_attr", "get_trial", "get_all_trials", "get_n_trials",
    "get_best_trial", "get_trial_params", "get_trial_user_attrs", "get_trial_system_attrs",
    "record_heartbeat", "_get_stale_trial_ids",
    # what Optuna's _CachedStorage (the storage of every Study) calls on its backend besides the above
    "_create_new_trial", "_get_trials", "_set_trial_param", "_get_best_trial_id",
)


QUERY_CANCELED = "57014"  # SQLSTATE of a query cancelled by the client


def is_connection_error(exc: BaseException) -> bool:
    """A lost, refused or restarting connection: Optuna wraps SQLAlchemy's error in StorageInternalError.

    SQLite has no server to come back: of its errors only a busy file (another writer holds the
    lock) is worth waiting for; a read-only file, a full disk or a missing directory fails at once.
    """
    import sqlite3

    from sqlalchemy import exc as sa

    seen: BaseException | None = exc
    while seen is not None:
        orig = getattr(seen, "orig", seen)
        if getattr(orig, "sqlstate", None) == QUERY_CANCELED:
            return False  # Ctrl-C cancels the running query (psycopg): the user stops, not the server
        if isinstance(orig, sqlite3.Error):
            return any(word in str(orig) for word in ("locked", "busy"))
        if isinstance(seen, (sa.OperationalError, sa.InterfaceError)):
            return True
        if isinstance(seen, sa.DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Outage:
    """One line when the connection is lost, one when it is back, whichever thread sees it first."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.since: float | None = None
        self._lock = threading.Lock()

    def lost(self, exc: BaseException, budget: float) -> None:
        with self._lock:
            if self.since is None:
                self.since = time.monotonic()
                reason = str(exc.__cause__ or exc).strip().splitlines()[0] if str(exc.__cause__ or exc) else ""
                self.write(f"storage: lost the database connection ({type(exc.__cause__ or exc).__name__}: "
                           f"{reason}); retrying for up to {budget:.0f} s")

    def back(self) -> None:
        with self._lock:
            if self.since is not None:
                self.write(f"storage: reconnected after {time.monotonic() - self.since:.1f} s")
                self.since = None


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class ReconnectingRDBStorage(optuna.storages.RDBStorage):
    """Optuna's RDBStorage whose calls outlast a database restart (see the module docstring).

    Opening it is not retried: a wrong or unreachable URL at start is reported at once.
    """

    reconnect_seconds: float = RECONNECT_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._outage = Outage(_stderr)
        self._inside = threading.local()  # a retried call that calls another is retried once, at the top
        super().__init__(*args, **kwargs)

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state.pop("_outage", None)
        state.pop("_inside", None)
        return state

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        self._outage = Outage(_stderr)
        self._inside = threading.local()

    def _retrying(self, call: Callable[[], Any]) -> Any:
        if getattr(self._inside, "active", False):
            return call()
        self._inside.active = True
        try:
            deadline, pause = time.monotonic() + self.reconnect_seconds, FIRST_PAUSE_SECONDS
            while True:
                try:
                    result = call()
                except Exception as exc:
                    if not is_connection_error(exc) or time.monotonic() + pause > deadline:
                        raise
                    self._outage.lost(exc, self.reconnect_seconds)
                    time.sleep(pause)
                    pause = min(2 * pause, LONGEST_PAUSE_SECONDS)
                    continue
                self._outage.back()
                return result
        finally:
            self._inside.active = False


def _retried(name: str) -> Callable[..., Any]:
    method = getattr(optuna.storages.RDBStorage, name)

    @functools.wraps(method)
    def call(self: ReconnectingRDBStorage, *args: Any, **kwargs: Any) -> Any:
        return self._retrying(lambda: method(self, *args, **kwargs))

    return call


for _name in RETRIED:
    if hasattr(optuna.storages.RDBStorage, _name):
        setattr(ReconnectingRDBStorage, _name, _retried(_name))
