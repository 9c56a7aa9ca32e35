"""A study turned into plain data, computed once: its rows, then what each analysis derives from them.

:func:`study_rows` reads what Optuna stores into the frozen rows of :mod:`reports._rows`;
:func:`study_data` adds the optimisation history, the parameter importances and the
analyses registered in :mod:`reports._analyses`. Gains over the base model that a trial did
not store (it ended before the base model was scored) are computed here from the per-question
scores, once. The figures and the HTML page are pure
functions of the result, and each piece can be tested (or reused in a notebook) without
drawing anything.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import optuna
from optuna.trial import TrialState

from reports._analyses import Analyses, analyses
from reports._best import best_trials
from reports._history import History, histories
from reports._importance import Importance, param_importances
from reports._intermediate import intermediate_series
from reports._parallel import param_axes
from reports._pareto import close_to_best
from reports._rows import StudyRows, TrialRow, objectives_of, trial_row, with_gains

# States always shown in the header; RUNNING and WAITING only when a study is still going.
_SHOWN_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


@dataclass(frozen=True)
class StudyData(StudyRows):
    """Everything the report shows of a study, as plain data: the rows and what the analyses derive."""

    histories: tuple[History, ...]
    importances: tuple[Importance, ...]
    analyses: Analyses  # correlations, test split, forgetting, pre-training, length, clinicians' review


def trial_rows(study: optuna.Study) -> tuple[TrialRow, ...]:
    return tuple(trial_row(t) for t in study.get_trials(deepcopy=False))


def state_counts(rows: Sequence[TrialRow]) -> dict[str, int]:
    counts = {s.name: 0 for s in _SHOWN_STATES}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts


def study_rows(study: optuna.Study, pruning_study: optuna.Study | None = None) -> StudyRows:
    """What ``study`` stores, read once; ``pruning_study`` as in :func:`study_data`."""
    objectives = objectives_of(study)
    rows = with_gains(trial_rows(study), [o.metric for o in objectives])
    gains = {r.number: r.gain for r in rows}
    # best_trials reads the storage again: a trial another worker finished since trial_rows keeps its own gain.
    best = tuple(b._replace(row=replace(b.row, gain=gains.get(b.row.number, b.row.gain))) for b in best_trials(study))
    pareto = tuple(b.row for b in best)
    return StudyRows(
        name=study.study_name,
        objectives=objectives,
        attrs=dict(study.user_attrs),
        counts=state_counts(rows),
        trials=rows,
        pareto=pareto,
        best=best,
        series=intermediate_series(study, pruning_study),
        axes=param_axes(study),
        close_to_best=close_to_best(rows, pareto, objectives),
    )


def study_data(study: optuna.Study, pruning_study: optuna.Study | None = None) -> StudyData:
    """Everything the report shows of ``study``, computed once.

    ``pruning_study`` is the optional ``<name>.pruning`` study; only its intermediate values
    are used, for trials that lack their own.
    """
    rows = study_rows(study, pruning_study)
    return StudyData(
        **vars(rows),  # the fields of StudyRows, as read
        histories=histories(rows.trials, rows.objectives),
        importances=param_importances(study, rows.objectives),
        analyses=analyses(rows),
    )
