"""Which trials a command takes from a study: one asked for, the Pareto front, or the best.

The base model's trial is never taken (there is nothing to reproduce). Where ``study.confirm``
has run, the best is the confirmed configuration with the best seed mean; otherwise it is the
Pareto-optimal trial best on ``by`` in its single validation run. ``study.export`` writes what
this picks.
"""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial, TrialState

from objectives import direction_of, pareto_front
from study.core.errors import StudyError
from study.optimize.confirmed import confirmed
from study.optimize.reference import is_base


def pick_trials(study: optuna.Study, trial: int | None, pareto: bool, by: str | None) -> tuple[list[FrozenTrial], str]:
    """The trials to take and a sentence saying how they were chosen."""
    if trial is not None:
        return [asked_trial(study, trial)], f"trial {trial}, as asked"
    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if not is_base(t)]
    if not complete:
        raise StudyError(f"study '{study.study_name}' has no completed fine-tune yet")
    front = [t for t in study.best_trials if not is_base(t)] or pareto_front(complete, lambda t: t.values,
                                                                              study.directions)
    if pareto:
        return sorted(front, key=lambda t: t.number), "the Pareto front (the base model left out)"
    names = study.metric_names or [f"objective{i}" for i in range(len(study.directions))]
    if by is not None and by not in names:
        raise StudyError(f"--by {by}: not an objective of this study ({', '.join(names)})")
    index = names.index(by) if by in names else 0
    maximize = direction_of(study.directions[index]) == "max"
    summary = confirmed(study)
    candidates = [t for t in complete if names[index] in summary.get(t.number, {})]
    if candidates:
        best = sorted(candidates, key=lambda t: summary[t.number][names[index]]["mean"], reverse=maximize)[0]
        return [best], f"the confirmed configuration with the best seed mean of {names[index]} (study.confirm)"
    best = sorted(front, key=lambda t: t.values[index], reverse=maximize)[0]
    return [best], (f"the Pareto trial best on {names[index]} in its single validation run "
                    "(not confirmed: python -m study.confirm re-trains the best with several seeds)")


def asked_trial(study: optuna.Study, number: int) -> FrozenTrial:
    """Trial ``number``, refused unless it is a COMPLETE fine-tune (``--trial``)."""
    found = [t for t in study.get_trials(deepcopy=False) if t.number == number]
    if not found:
        raise StudyError(f"--trial {number}: the study has trials 0..{len(study.trials) - 1}")
    if found[0].state != TrialState.COMPLETE:
        raise StudyError(f"--trial {number}: the trial is {found[0].state.name}, only COMPLETE trials can be exported")
    if is_base(found[0]):
        raise StudyError(f"--trial {number}: that is the untuned base model, which has no fine-tune to export")
    return found[0]
