"""The rows every analysis of the report reads: a study as plain data, as Optuna stores it.

A leaf: it imports no other module of :mod:`reports`, so that each analysis module can build
on these types without importing another analysis. :class:`StudyRows` is read once from the
study by :func:`reports._data.study_rows`; :class:`reports._data.StudyData` adds what the
analyses derive from it.

The keys read from each trial's user attributes are those :mod:`study.optimize.records` and
:mod:`study.optimize.loop` write: ``config``, ``metrics``, ``samples``, ``pruned_at``,
``fail_reason``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from objectives import Objective
from study.core import keys

#: The domain metric the forgetting and answer-length figures plot on their x axis.
DOMAIN_METRIC = "rougeL"
#: Fewer paired values than this give no rank correlation worth showing.
MIN_TRIALS_FOR_CORRELATION = 3


class ObjectiveInfo(Objective):
    """One objective of the study, labelled as the report shows it: ``rougeL (max)``."""

    def __str__(self) -> str:
        return f"{self.metric} ({'max' if self.direction == 'maximize' else 'min'})"


@dataclass(frozen=True)
class TrialRow:
    """What the report shows of one trial, whatever its state."""

    number: int
    state: str  # TrialState name: "COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"
    values: tuple[float, ...] | None  # objective values, COMPLETE trials only
    params: dict[str, Any]  # searched parameters, e.g. {"lora.rank": 8}
    metrics: dict[str, float | None]  # validation metrics of the last evaluation
    config: dict[str, Any]  # the TrialConfig as sections, e.g. config["pretraining"]["epochs"]; {} if not recorded
    duration_s: float | None  # wall-clock seconds, None while running
    pruned_at: float | None  # epoch (1.5: half-way through the second) or question (wilcoxon) where it was pruned
    fail_reason: str | None


class Sample(NamedTuple):
    """One validation question with the reference answer and the trial's answer."""

    question: str
    reference: str
    answer: str


class BestTrial(NamedTuple):
    """A Pareto-optimal trial with its sample answers, for the best-trials table."""

    row: TrialRow
    samples: tuple[Sample, ...]


class Series(NamedTuple):
    """Intermediate values (the pruning metric per step) of one trial, pruned ones included."""

    number: int
    state: str
    steps: tuple[int, ...]
    values: tuple[float, ...]


class ParamAxis(NamedTuple):
    """How one searched parameter is plotted: numeric (maybe log scale) or categorical."""

    name: str
    log: bool
    choices: tuple[Any, ...] | None  # categorical choices; None for numeric parameters


@dataclass(frozen=True)
class StudyRows:
    """What the study stores, read once: the input of every analysis."""

    name: str
    objectives: tuple[ObjectiveInfo, ...]
    attrs: dict[str, Any]  # study user attributes: space, pruner, data_source, n_train, ...
    counts: dict[str, int]  # trials per state name
    trials: tuple[TrialRow, ...]
    pareto: tuple[TrialRow, ...]  # best first by the first objective
    best: tuple[BestTrial, ...]  # the Pareto trials with their sample answers
    series: tuple[Series, ...]
    axes: tuple[ParamAxis, ...]


def objectives_of(study: optuna.Study) -> tuple[ObjectiveInfo, ...]:
    """Metric names and directions; ``objective 0`` etc. where the study has no names."""
    names = study.metric_names or [f"objective {i}" for i in range(len(study.directions))]
    return tuple(
        ObjectiveInfo(name, "maximize" if d == optuna.study.StudyDirection.MAXIMIZE else "minimize")
        for name, d in zip(names, study.directions)
    )


def trial_row(trial: FrozenTrial) -> TrialRow:
    attrs = trial.user_attrs
    return TrialRow(
        number=trial.number,
        state=trial.state.name,
        values=tuple(trial.values) if trial.state == TrialState.COMPLETE and trial.values else None,
        params=dict(trial.params),
        metrics=dict(attrs.get(keys.METRICS) or {}),  # absent on trials that failed before scoring
        config=dict(attrs.get(keys.CONFIG) or {}),
        duration_s=trial.duration.total_seconds() if trial.duration is not None else None,
        pruned_at=attrs.get(keys.PRUNED_AT),
        fail_reason=attrs.get(keys.FAIL_REASON),
    )


def as_number(value: Any) -> float | None:
    """``value`` as a float if it is a finite number (not a bool), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def complete(rows: Sequence[TrialRow]) -> list[TrialRow]:
    return [r for r in rows if r.state == "COMPLETE"]


def objectives_first(names: set[str], objectives: Sequence[ObjectiveInfo]) -> tuple[str, ...]:
    """The objectives' metrics first, in study order, then the others by name."""
    first = [o.metric for o in objectives if o.metric in names]
    return (*first, *sorted(names - set(first)))
