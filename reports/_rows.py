"""The rows every analysis of the report reads: a study as plain data, as Optuna stores it.

A leaf: it imports no other module of :mod:`reports`, so that each analysis module can build
on these types without importing another analysis. :class:`StudyRows` is read once from the
study by :func:`reports._data.study_rows`; :class:`reports._data.StudyData` adds what the
analyses derive from it.

The keys read from each trial's user attributes are those :mod:`study.optimize.records` and
:mod:`study.optimize.loop` write: ``config``, ``metrics``, ``samples``, ``pruned_at``,
``fail_reason``, and in studies stored since the base model became a point of the study
``reference`` (the untuned base model), ``per_question``, ``intervals`` and ``gain_vs_base``.
The base trial is a row like the others, with :attr:`TrialRow.is_base` set: :func:`complete`
leaves it out, :func:`base_row` finds it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple, Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

from objectives import Interval, Objective, gain_table
from study.core import keys

#: The domain metric the forgetting and answer-length figures plot on their x axis.
DOMAIN_METRIC = "rougeL"
#: Fewer paired values than this give no rank correlation worth showing.
MIN_TRIALS_FOR_CORRELATION = 3
#: The value of the ``reference`` user attribute that marks the untuned base model.
BASE_REFERENCE = "base"


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
    is_base: bool = False  # the untuned base model (user attribute ``reference: "base"``): no params
    intervals: dict[str, Interval | None] = field(default_factory=dict)  # metric -> 95 % interval
    gain: dict[str, dict[str, Any]] = field(default_factory=dict)  # metric -> paired gain over the base model
    per_question: dict[str, list[Any]] = field(default_factory=dict)  # metric -> scores in validation order
    check_questions: int | None = None  # the first N validation questions its checks before the last answered; None: all
    gain_basis: str | None = None  # keys.SAME_DECODING: ``gain`` is against the base answering with this trial's decoding


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
    close_to_best: frozenset[int]  # trials not distinguishable from the best on the first objective


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
        metrics=keys.trial_metrics(attrs),  # empty on trials that failed before scoring
        config=dict(attrs.get(keys.CONFIG) or {}),
        duration_s=trial.duration.total_seconds() if trial.duration is not None else None,
        pruned_at=attrs.get(keys.PRUNED_AT),
        fail_reason=attrs.get(keys.FAIL_REASON),
        is_base=is_base_trial(trial),
        intervals={str(m): interval_of(d) for m, d in (attrs.get(keys.INTERVALS) or {}).items()},
        gain={str(m): dict(g) for m, g in (attrs.get(keys.GAIN_VS_BASE) or {}).items() if isinstance(g, Mapping)},
        per_question={str(m): list(v) for m, v in (attrs.get(keys.PER_QUESTION) or {}).items()
                      if isinstance(v, Sequence)},
        check_questions=_check_questions(attrs.get(keys.HISTORY)),
        gain_basis=attrs.get(keys.GAIN_BASIS),
    )


def _check_questions(history: Any) -> int | None:
    """How many validation questions (the first N) the trial's checks before the last answered; None: all.

    A check that answers a subset records it as ``questions`` in its history entry
    (``study.check_questions``); the last check answers every question.
    """
    if not isinstance(history, Sequence) or len(history) < 2:
        return None
    counts = [h.get("questions") for h in history[:-1] if isinstance(h, Mapping)]
    counts = [int(c) for c in counts if isinstance(c, (int, float)) and math.isfinite(c)]
    return min(counts) if counts else None


def is_base_trial(trial: FrozenTrial) -> bool:
    return trial.user_attrs.get(keys.REFERENCE) == BASE_REFERENCE


def interval_of(stored: Any) -> Interval | None:
    """A stored ``{estimate, low, high, n}`` as an :class:`~objectives.Interval`; None if incomplete or NaN."""
    try:
        interval = Interval.from_dict(stored)
    except (KeyError, TypeError, ValueError):
        return None
    finite = all(math.isfinite(x) for x in (interval.estimate, interval.low, interval.high))
    return interval if finite else None


def base_row(rows: Sequence[TrialRow]) -> TrialRow | None:
    """The scored base model (the first COMPLETE base trial), or None: not scored, or an older study."""
    return next((r for r in rows if r.is_base and r.state == "COMPLETE" and r.values is not None), None)


def with_gains(rows: Sequence[TrialRow], metrics: Sequence[str]) -> tuple[TrialRow, ...]:
    """Rows whose gain over the base model on ``metrics`` is computed from the per-question scores
    where the trial did not store it (it ended before the base model was scored)."""
    base = base_row(rows)
    if base is None or not base.per_question:
        return tuple(rows)
    out = []
    for r in rows:
        missing = [m for m in metrics if m not in r.gain]
        if r.is_base or r.state != "COMPLETE" or not r.per_question or not missing:
            out.append(r)
            continue
        computed = gain_table(r.per_question, base.per_question, missing)
        out.append(dataclasses.replace(r, gain={**r.gain, **computed}) if computed else r)
    return tuple(out)


def as_number(value: Any) -> float | None:
    """``value`` as a float if it is a finite number (not a bool), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def complete(rows: Sequence[TrialRow]) -> list[TrialRow]:
    """The COMPLETE fine-tuned trials: the base model is a reference, not a trial of the search."""
    return [r for r in rows if r.state == "COMPLETE" and not r.is_base]


def scored(rows: Sequence[TrialRow]) -> list[TrialRow]:
    """The COMPLETE fine-tuned trials that have objective values: the points of the figures."""
    return [r for r in complete(rows) if r.values is not None]


def setting(row: TrialRow, section: str, key: str) -> float:
    """A number of the trial's config (``config[section][key]``), 0 where not recorded."""
    return float((row.config.get(section) or {}).get(key) or 0)


def approach(row: TrialRow) -> str:
    """How the trial answers: "fine-tuning only", "retrieval only", "fine-tuning + retrieval" or "neither"
    (fine-tuning is QA tuning or continued pre-training; retrieval puts passages in the prompt)."""
    tuned = setting(row, "training", "epochs") > 0 or setting(row, "pretraining", "epochs") > 0
    retrieved = setting(row, "retrieval", "top_k") > 0
    return {(True, False): "fine-tuning only", (False, True): "retrieval only",
            (True, True): "fine-tuning + retrieval", (False, False): "neither"}[(tuned, retrieved)]


def objectives_first(names: set[str], objectives: Sequence[ObjectiveInfo]) -> tuple[str, ...]:
    """The objectives' metrics first, in study order, then the others by name."""
    first = [o.metric for o in objectives if o.metric in names]
    return (*first, *sorted(names - set(first)))
