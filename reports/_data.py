"""A study turned into plain data: trial rows, the Pareto front, pruning curves, importances.

Everything the figures and the HTML page show is computed here, from an Optuna study into
frozen dataclasses and tuples, with no plotly. The page is then a pure function of this data,
and each piece can be tested (or reused in a notebook) without drawing anything.

The keys read from each trial's user attributes are those :mod:`study.records` and
:mod:`study.loop` write: ``config``, ``metrics``, ``samples``, ``pruned_at``, ``fail_reason``.
The clinical analyses (metric correlations, test split, forgetting, ...) are computed by
:mod:`reports._analysis` and kept here as ``StudyData.analyses``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, NamedTuple, Sequence

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from objectives import Objective
from reports._analysis import Analyses, analyses

#: Share of trials PED-ANOVA treats as "good" when it scores a parameter's importance.
TOP_QUANTILE = 0.1
#: Fewer complete trials than this give importances that are noise: the top 10 % must hold two.
MIN_TRIALS_FOR_IMPORTANCE = math.ceil(2 / TOP_QUANTILE)

# States always shown in the header; RUNNING and WAITING only when a study is still going.
_SHOWN_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


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
    """Intermediate values (the pruning metric per epoch) of one trial, pruned ones included."""

    number: int
    state: str
    steps: tuple[int, ...]
    values: tuple[float, ...]


class ParamAxis(NamedTuple):
    """How one searched parameter is plotted: numeric (maybe log scale) or categorical."""

    name: str
    log: bool
    choices: tuple[Any, ...] | None  # categorical choices; None for numeric parameters


class History(NamedTuple):
    """One objective over the complete trials, and the best value found so far."""

    objective: ObjectiveInfo
    numbers: tuple[int, ...]
    values: tuple[float, ...]
    best: tuple[float, ...]


class Importance(NamedTuple):
    """Parameter importances for one objective (largest first), or why there are none."""

    objective: ObjectiveInfo
    importances: dict[str, float]  # normalised to sum to 1
    note: str | None


@dataclass(frozen=True)
class StudyData:
    """Everything the report shows of a study, as plain data."""

    name: str
    objectives: tuple[ObjectiveInfo, ...]
    attrs: dict[str, Any]  # study user attributes: space, pruner, data_source, n_train, ...
    counts: dict[str, int]  # trials per state name
    trials: tuple[TrialRow, ...]
    pareto: tuple[TrialRow, ...]  # best first by the first objective
    best: tuple[BestTrial, ...]  # the Pareto trials with their sample answers
    series: tuple[Series, ...]
    axes: tuple[ParamAxis, ...]
    histories: tuple[History, ...]
    importances: tuple[Importance, ...]
    analyses: Analyses  # correlations, test split, forgetting, pre-training, length, human ratings


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
        metrics=dict(attrs.get("metrics") or {}),  # absent on trials that failed before scoring
        config=dict(attrs.get("config") or {}),
        duration_s=trial.duration.total_seconds() if trial.duration is not None else None,
        pruned_at=attrs.get("pruned_at"),
        fail_reason=attrs.get("fail_reason"),
    )


def trial_rows(study: optuna.Study) -> tuple[TrialRow, ...]:
    return tuple(trial_row(t) for t in study.get_trials(deepcopy=False))


def state_counts(rows: Sequence[TrialRow]) -> dict[str, int]:
    counts = {s.name: 0 for s in _SHOWN_STATES}
    for row in rows:
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts


def pareto_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The Pareto front (``study.best_trials``), best first by the first objective."""
    front = study.best_trials
    sign = -1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
    return sorted(front, key=lambda t: (sign * t.values[0], t.number))


def samples_of(trial: FrozenTrial) -> tuple[Sample, ...]:
    return tuple(
        Sample(str(s.get("question", "")), str(s.get("reference", "")), str(s.get("answer", "")))
        for s in trial.user_attrs.get("samples") or ()
    )


def best_trials_table(study: optuna.Study) -> tuple[BestTrial, ...]:
    """The Pareto trials with their sample answers beside the references."""
    return tuple(BestTrial(trial_row(t), samples_of(t)) for t in pareto_trials(study))


def intermediate_series(study: optuna.Study, companion: optuna.Study | None = None) -> tuple[Series, ...]:
    """The pruning metric per step of every trial that reported one, pruned trials included.

    A trial without intermediate values of its own borrows those of its twin (user attribute
    ``pruning_twin``) in ``companion``, the ``<name>.pruning`` study the pruner works on.
    """
    twins = {t.number: t.intermediate_values for t in companion.get_trials(deepcopy=False)} if companion else {}
    out = []
    for trial in study.get_trials(deepcopy=False):
        values = trial.intermediate_values or twins.get(trial.user_attrs.get("pruning_twin"), {})
        if values:
            steps = tuple(sorted(values))
            out.append(Series(trial.number, trial.state.name, steps, tuple(values[s] for s in steps)))
    return tuple(out)


def param_axes(study: optuna.Study) -> tuple[ParamAxis, ...]:
    """One axis per searched parameter, sorted by name; the latest distribution wins."""
    dists: dict[str, BaseDistribution] = {}
    for trial in study.get_trials(deepcopy=False):
        dists.update(trial.distributions)
    axes = []
    for name in sorted(dists):
        dist = dists[name]
        if isinstance(dist, CategoricalDistribution):
            axes.append(ParamAxis(name, False, tuple(dist.choices)))
        elif isinstance(dist, (FloatDistribution, IntDistribution)):
            axes.append(ParamAxis(name, dist.log, None))
    return tuple(axes)


def running_best(values: Sequence[float], direction: str) -> tuple[float, ...]:
    """Best value so far after each entry of ``values`` (max or min by ``direction``)."""
    pick = max if direction == "maximize" else min
    out: list[float] = []
    for v in values:
        out.append(v if not out else pick(out[-1], v))
    return tuple(out)


def histories(rows: Sequence[TrialRow], objectives: Sequence[ObjectiveInfo]) -> tuple[History, ...]:
    done = [r for r in rows if r.values is not None]
    out = []
    for i, objective in enumerate(objectives):
        values = tuple(r.values[i] for r in done)  # type: ignore[index]  # filtered above
        out.append(History(objective, tuple(r.number for r in done), values,
                           running_best(values, objective.direction)))
    return tuple(out)


def param_importances(study: optuna.Study, objectives: Sequence[ObjectiveInfo]) -> tuple[Importance, ...]:
    """PED-ANOVA importances per objective, or a note saying why they cannot be trusted.

    PED-ANOVA looks for the parameters that set the *lowest* target values apart, so a
    maximised objective is negated.
    """
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    searched = {name for t in complete for name in t.distributions}
    if len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
        note = (f"needs at least {MIN_TRIALS_FOR_IMPORTANCE} complete trials "
                f"(the best {TOP_QUANTILE:.0%} must hold two); the study has {len(complete)}")
        return tuple(Importance(o, {}, note) for o in objectives)
    if not searched:
        return tuple(Importance(o, {}, "no searched parameters") for o in objectives)
    evaluator = optuna.importance.PedAnovaImportanceEvaluator(target_quantile=TOP_QUANTILE)
    out = []
    for i, objective in enumerate(objectives):
        sign = -1.0 if objective.direction == "maximize" else 1.0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            importances = optuna.importance.get_param_importances(
                study, evaluator=evaluator, target=lambda t, i=i, sign=sign: sign * t.values[i]
            )
        # Optuna warns (and returns equal shares) when the trials cannot separate parameters;
        # the lower-is-better reminder is handled by the sign above.
        equal = [str(w.message) for w in caught if "will be equal" in str(w.message)]
        out.append(Importance(objective, {} if equal else importances, equal[0] if equal else None))
    return tuple(out)


def study_data(study: optuna.Study, companion: optuna.Study | None = None) -> StudyData:
    """Everything the report shows of ``study``, computed once.

    ``companion`` is the optional ``<name>.pruning`` twin study; only its intermediate values
    are used, for trials that lack their own.
    """
    objectives = objectives_of(study)
    rows = trial_rows(study)
    best = best_trials_table(study)
    return StudyData(
        name=study.study_name,
        objectives=objectives,
        attrs=dict(study.user_attrs),
        counts=state_counts(rows),
        trials=rows,
        pareto=tuple(b.row for b in best),
        best=best,
        series=intermediate_series(study, companion),
        axes=param_axes(study),
        histories=histories(rows, objectives),
        importances=param_importances(study, objectives),
        analyses=analyses(rows, objectives, study.user_attrs),
    )
