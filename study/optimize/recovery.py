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
from types import TracebackType
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from study.core import keys
from study.core.keys import PRUNING_SUFFIX

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
        # The base model's trial is not queued again: the next worker to start scores it anew.
        again = len(history) < self.max_retry and keys.REFERENCE not in trial.user_attrs
        if again:
            seed = copy.copy(trial)
            seed.user_attrs = {keys.RETRY_OF: history[0] if history else trial.number}
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
    """Fail the running trials of dead workers and queue them again; one line per trial."""
    if not heartbeat_seconds(storage):
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    callback = storage.get_heartbeat_stale_trial_callback()
    if not isinstance(callback, RequeueStaleTrials):
        return []
    grace = 2 * heartbeat_seconds(storage)
    return [
        f"trial {number:>3} FAIL      its worker sent no heartbeat for {grace} s (killed?); "
        + ("configuration queued again" if again else f"not retried again (ran {callback.max_retry + 1} times)")
        for number, again in callback.drain()
    ]
