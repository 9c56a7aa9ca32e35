"""A fake clock for stale-trial detection: move a storage's running trials and heartbeats into the past.

Detecting a dead worker compares the last heartbeat (and, for a trial that never beat, its
start) with the time now. Instead of sleeping past the grace period, a test moves those
times back by as much, in the real SQLite or PostgreSQL storage: the code under test then
sees exactly what it would see after the wait.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from optuna.storages._rdb import models
from optuna.trial import TrialState
from sqlalchemy.orm import Session


def age_running_trials(storage: Any, seconds: float) -> None:
    """Every heartbeat, and every running trial's start, ``seconds`` earlier than recorded."""
    back = timedelta(seconds=seconds)
    with Session(storage.engine) as session, session.begin():
        for beat in session.query(models.TrialHeartbeatModel):
            beat.heartbeat -= back
        for trial in session.query(models.TrialModel).filter(models.TrialModel.state == TrialState.RUNNING):
            trial.datetime_start -= back
