"""Trials that several workers must run once: the base model, each confirmation run.

Optuna's ``ask`` goes through the sampler, and these trials have no parameters to sample.
A worker *claims* one instead: it adds a RUNNING trial with identifying user attributes
through the storage, then looks at every live trial with the same attributes. Trial numbers
are handed out one at a time by the storage, so exactly one claimant holds the lowest number:
it runs the work; the others end their trial FAIL at once with reason ``duplicate``. A
claimant that dies stops beating and is failed; the next worker claims the work again.
"""

from __future__ import annotations

from typing import Any, Mapping

import optuna
from optuna.trial import FrozenTrial, TrialState

from study.core import keys

ALIVE = (TrialState.RUNNING, TrialState.COMPLETE, TrialState.WAITING)


class StoredTrial:
    """Just enough of ``optuna.Trial`` for the records and the heartbeat, written through the storage."""

    def __init__(self, study: optuna.Study, trial_id: int, number: int, user_attrs: Mapping[str, Any]) -> None:
        self.study, self._trial_id, self.number = study, trial_id, number
        self.user_attrs: dict[str, Any] = dict(user_attrs)

    def set_user_attr(self, key: str, value: Any) -> None:
        self.study._storage.set_trial_user_attr(self._trial_id, key, value)
        self.user_attrs[key] = value

    def finish(self, state: TrialState, values: list[float] | None = None) -> None:
        self.study._storage.set_trial_state_values(self._trial_id, state=state, values=values)


def matches(trial: FrozenTrial, attrs: Mapping[str, Any]) -> bool:
    return all(trial.user_attrs.get(k) == v for k, v in attrs.items())


def live(study: optuna.Study, attrs: Mapping[str, Any]) -> list[FrozenTrial]:
    """Trials with ``attrs`` that are done, running or waiting."""
    return [t for t in study.get_trials(deepcopy=False, states=ALIVE) if matches(t, attrs)]


def claim(study: optuna.Study, attrs: Mapping[str, Any]) -> StoredTrial | None:
    """A RUNNING trial with ``attrs`` for this process to run, or None where another process runs it."""
    template = optuna.trial.create_trial(state=TrialState.RUNNING, user_attrs=dict(attrs))
    storage = study._storage  # Optuna has no public way to add a RUNNING trial without the sampler
    trial_id = storage.create_new_trial(study._study_id, template_trial=template)
    mine = StoredTrial(study, trial_id, storage.get_trial_number_from_id(trial_id), attrs)
    first = min(t.number for t in live(study, attrs))
    if first != mine.number:
        mine.set_user_attr(keys.FAIL_REASON, f"duplicate: trial {first} runs this")
        mine.finish(TrialState.FAIL)
        return None
    return mine
