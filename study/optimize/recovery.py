"""Crash recovery: heartbeats of running trials, and what happens to the trial of a dead worker.

Optuna records heartbeats only inside ``Study.optimize``; the study loop uses ask-and-tell,
so :class:`Heartbeat` does it: a daemon thread writes the running trial's heartbeat every
``heartbeat_interval`` seconds. Before each ask, :func:`fail_stale_trials` fails the running
trials whose heartbeat is older than the grace period (their worker was killed, lost power or
its network) and :class:`RequeueStaleTrials` queues each one's configuration again as a
``WAITING`` trial, which the next ask of any worker takes. The pruning trial of a failed
trial is failed too. SQL storages only: Optuna's journal storage has no heartbeats.
"""

from __future__ import annotations

import copy
import threading
import warnings
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from study.core import keys
from study.core.keys import PRUNING_SUFFIX
from study.optimize.reconnect import ReconnectingRDBStorage

MAX_RETRIES = 2  # a configuration that kills its worker every time (out of memory) is not retried forever


def heartbeat_seconds(storage: Any) -> int | None:
    """The storage's heartbeat interval, or None when it records no heartbeats."""
    get = getattr(storage, "get_heartbeat_interval", None)
    return get() if get else None


class Heartbeat:
    """Record ``trial``'s heartbeat now and every interval until the ``with`` block ends.

    A failing write (the database restarting) is retried at the next beat rather than
    ending the thread: a trial that stops beating is failed and re-run by another worker.
    """

    def __init__(self, storage: Any, trial: optuna.Trial) -> None:
        self.storage = storage
        self.interval = heartbeat_seconds(storage)
        self.trial_id = trial._trial_id  # Optuna has no public accessor; its own heartbeat thread uses this too
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "Heartbeat":
        if self.interval:
            self._beat()
            self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.trial_id}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._beat()

    def _beat(self) -> None:
        try:
            self.storage.record_heartbeat(self.trial_id)
        except Exception:  # the next beat tries again; the grace period is two intervals
            pass


class RequeueStaleTrials:
    """Optuna's heartbeat-stale callback: queue the dead trial's configuration again, fail its pruning trial.

    The retry is a new trial with the same parameters and the user attribute ``retry_of``
    (the number of the first trial that ran this configuration).
    """

    def __init__(self, max_retry: int = MAX_RETRIES) -> None:
        self.max_retry = max_retry
        self._retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
        self.requeued: list[tuple[int, bool]] = []  # (trial number, queued again) since the last drain

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if study.study_name.endswith(PRUNING_SUFFIX):
            return  # pruning trials record no heartbeats; they are failed with their main trial below
        history = trial.system_attrs.get("retry_history", [])
        # The base model's trial and a confirmation run are not queued again: they are claimed by their
        # attributes, and the next worker (or study.confirm) to come claims and runs them anew.
        claimed = keys.REFERENCE in trial.user_attrs or keys.CONFIRMS in trial.user_attrs
        again = len(history) < self.max_retry and not claimed
        if again:
            seed = copy.copy(trial)
            seed.user_attrs = {keys.RETRY_OF: history[0] if history else trial.number}
            if trial.user_attrs.get(keys.FAIL_REASON):
                seed.user_attrs[keys.RETRY_REASON] = f"trial {trial.number}: {trial.user_attrs[keys.FAIL_REASON]}"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                self._retry(study, seed)
        _fail_pruning_trial(study, trial)
        self.requeued.append((trial.number, again))

    def drain(self) -> list[tuple[int, bool]]:
        out, self.requeued = self.requeued, []
        return out


def _fail_pruning_trial(study: optuna.Study, trial: FrozenTrial) -> None:
    number = keys.pruning_trial_number(trial.user_attrs)
    if number is None:
        return
    storage = study._storage  # the storage the callback was called for; no public accessor
    try:
        pruning_study = storage.get_study_id_from_name(study.study_name + PRUNING_SUFFIX)
        trial_id = storage.get_trial_id_from_study_id_trial_number(pruning_study, number)
        storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
    except (KeyError, optuna.exceptions.UpdateFinishedTrialError):
        pass  # no pruning study, or its trial was already finished


def fail_stale_trials(study: optuna.Study, storage: Any) -> list[str]:
    """Fail the running trials of dead workers and queue them again; one line per trial.

    Optuna's own ``fail_stale_trials`` skips a trial that never beat: its worker died between
    the ask and the first heartbeat, or while the database was unreachable. Such a trial is
    failed here too once it has run for longer than the grace period without one, on this
    worker's clock against the trial's start in UTC (written by the asking worker's clock:
    machines sharing a study keep theirs in step). Each trial's reason goes into its ``fail_reason``
    while it is still running (Optuna refuses user attributes on a finished trial) and into
    its retry's ``retry_reason``.
    """
    interval = heartbeat_seconds(storage)
    if not interval:
        return []
    grace = 2 * interval
    reasons = {trial_id: f"its worker sent no heartbeat for {grace} s (killed?)"
               for trial_id in storage._get_stale_trial_ids(study._study_id)}  # Optuna's query, no public name
    for trial_id in _never_beat(study, storage, grace):
        reasons.setdefault(trial_id, f"its worker died before its first heartbeat (running {grace} s without one)")
    failed = []
    for trial_id, reason in reasons.items():
        try:
            storage.set_trial_user_attr(trial_id, keys.FAIL_REASON, reason)
            if storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                failed.append(trial_id)
        except optuna.exceptions.UpdateFinishedTrialError:
            pass  # it ended meanwhile, or another worker failed it first
    callback = storage.get_heartbeat_stale_trial_callback()
    for trial_id in failed:
        if callback is not None:
            callback(study, copy.deepcopy(storage.get_trial(trial_id)))
    if not isinstance(callback, RequeueStaleTrials):
        return []
    shown = {storage.get_trial_number_from_id(t): reasons[t] for t in failed}
    return [
        f"trial {number:>3} FAIL      {shown.get(number, 'its worker sent no heartbeat')}; "
        + ("configuration queued again" if again else f"not retried again (ran {callback.max_retry + 1} times)")
        for number, again in callback.drain()
    ]


def _never_beat(study: optuna.Study, storage: Any, grace: int) -> list[int]:
    """Running trials of ``study`` with no heartbeat row that started more than ``grace`` seconds ago."""
    import sqlalchemy
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    def query() -> list[int]:
        # Optuna stores the start as naive UTC, from the clock of the worker that asked.
        oldest = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=grace)
        with _create_scoped_session(storage.scoped_session) as session:  # Optuna has no public query for this
            beat = sqlalchemy.select(models.TrialHeartbeatModel.trial_id)
            return list(session.execute(
                sqlalchemy.select(models.TrialModel.trial_id).where(
                    models.TrialModel.study_id == study._study_id,
                    models.TrialModel.state == TrialState.RUNNING,
                    models.TrialModel._datetime_start_utc < oldest,
                    models.TrialModel.trial_id.not_in(beat),
                )
            ).scalars())

    return storage._retrying(query) if isinstance(storage, ReconnectingRDBStorage) else query()
