"""The clinical team's analyses of a study, as plain data: how metrics agree with each other and
with human raters, base model versus tuned trials on the test split, forgetting, continued
pre-training and answer length.

Pure functions of the trial rows, the objectives and the study's user attributes; each result
carries a ``note`` saying why it is empty or partial instead of raising, because these
attributes appear only after optional steps:

    ``test_scores``                    ``python -m study.export`` (base model and exported trials, test split)
    ``human_eval``, ``human_agreement``  ``python -m study.human_eval import``
    metrics ``general_accuracy*``        ``evaluation.general_questions > 0`` in the search space
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple, Sequence

from scipy.stats import spearmanr

if TYPE_CHECKING:  # at run time _data imports this module, not the other way round
    from reports._data import ObjectiveInfo, TrialRow

#: Fewer paired values than this give no rank correlation worth showing.
MIN_TRIALS_FOR_CORRELATION = 3
#: The domain metric the forgetting and answer-length figures plot on their x axis.
DOMAIN_METRIC = "rougeL"
#: Answer-length metrics, in order of preference when none is an objective.
LENGTH_METRICS = ("answer_words", "length_error")
BASE = "base"  # key of the base model in the ``test_scores`` study attribute
PRETRAIN_OFF, PRETRAIN_ON = "off (epochs = 0)", "on (epochs > 0)"  # group labels


class Correlations(NamedTuple):
    """Spearman rank correlation of every pair of numeric metrics over COMPLETE trials."""

    metrics: tuple[str, ...]
    rho: tuple[tuple[float | None, ...], ...]  # rho[i][j] for metrics i and j; None: too few pairs
    n_trials: int
    note: str | None


class HeldOutRow(NamedTuple):
    """Test-split scores of the base model (``number`` None) or of one exported trial."""

    label: str  # "base model" or "trial 7"
    number: int | None
    scores: dict[str, float | None]
    gains: dict[str, float | None]  # score minus the base model's; empty for the base row


class HeldOut(NamedTuple):
    metrics: tuple[str, ...]  # objectives first, then the other metrics by name
    rows: tuple[HeldOutRow, ...]  # base model first, then trials by number
    note: str | None


class Point(NamedTuple):
    """One COMPLETE trial in a scatter plot; ``group`` sets its colour where there are groups."""

    number: int
    params: dict[str, Any]
    x: float
    y: float
    group: str | None = None


class Forgetting(NamedTuple):
    """General-medicine quiz accuracy after tuning (y) against the domain metric (x)."""

    x_metric: str
    points: tuple[Point, ...]
    base_accuracy: float | None  # the same quiz answered by the base model
    note: str | None


class Group(NamedTuple):
    """One objective over the trials of one group: count, mean and best in its direction."""

    label: str
    numbers: tuple[int, ...]
    values: tuple[float, ...]
    mean: float | None
    best: float | None


class GroupComparison(NamedTuple):
    objective: ObjectiveInfo
    groups: tuple[Group, ...]


class Pretraining(NamedTuple):
    """Objectives of trials without (``pretraining.epochs == 0``) and with continued pre-training."""

    comparisons: tuple[GroupComparison, ...]
    note: str | None


class LengthTradeoff(NamedTuple):
    """Answer length (y) against the domain metric (x); groups are the trials' answer styles."""

    x_metric: str
    y_metric: str | None  # None when no trial recorded an answer-length metric
    points: tuple[Point, ...]
    note: str | None


class HumanRow(NamedTuple):
    number: int
    mean_rating: float
    n: int  # rated answers
    metrics: dict[str, float | None]  # the objectives' validation metrics


class HumanEval(NamedTuple):
    objectives: tuple[str, ...]
    rows: tuple[HumanRow, ...]  # best mean rating first
    agreement: dict[str, float | None]  # Spearman rho of each metric with the ratings, over trials
    note: str | None


@dataclass(frozen=True)
class Analyses:
    correlations: Correlations
    held_out: HeldOut
    forgetting: Forgetting
    pretraining: Pretraining
    lengths: LengthTradeoff
    human: HumanEval


def analyses(rows: Sequence[TrialRow], objectives: Sequence[ObjectiveInfo], attrs: Mapping[str, Any]) -> Analyses:
    """Every analysis of the study, from its trial rows and user attributes."""
    return Analyses(
        correlations=metric_correlations(rows, objectives),
        held_out=held_out_scores(attrs.get("test_scores"), objectives),
        forgetting=forgetting(rows),
        pretraining=pretraining_comparison(rows, objectives),
        lengths=length_tradeoff(rows, objectives),
        human=human_evaluation(attrs.get("human_eval"), attrs.get("human_agreement"), rows, objectives),
    )


def _number(value: Any) -> float | None:
    """``value`` as a float if it is a finite number (not a bool), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _complete(rows: Sequence[TrialRow]) -> list[TrialRow]:
    return [r for r in rows if r.state == "COMPLETE"]


def _ordered(names: set[str], objectives: Sequence[ObjectiveInfo]) -> tuple[str, ...]:
    """The objectives' metrics first, in study order, then the others by name."""
    first = [o.metric for o in objectives if o.metric in names]
    return (*first, *sorted(names - set(first)))


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman rank correlation (ties get their mean rank); None for fewer than 3 pairs or a constant side."""
    if len(x) < MIN_TRIALS_FOR_CORRELATION or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    return float(spearmanr(x, y).statistic)


def metric_correlations(rows: Sequence[TrialRow], objectives: Sequence[ObjectiveInfo]) -> Correlations:
    """Each pair of metrics is correlated over the trials that recorded both.

    Metrics that never vary (``general_accuracy_base``) or that fewer than 3 trials recorded
    are left out, and named in the note.
    """
    done = _complete(rows)
    if len(done) < MIN_TRIALS_FOR_CORRELATION:
        note = f"needs at least {MIN_TRIALS_FOR_CORRELATION} COMPLETE trials; the study has {len(done)}"
        return Correlations((), (), len(done), note)
    columns: dict[str, dict[int, float]] = {}  # metric -> {trial number: value}
    for r in done:
        for name, value in r.metrics.items():
            if (v := _number(value)) is not None:
                columns.setdefault(name, {})[r.number] = v
    usable = {n for n, c in columns.items() if len(c) >= MIN_TRIALS_FOR_CORRELATION and len(set(c.values())) > 1}
    metrics = _ordered(usable, objectives)
    rho = tuple(tuple(_pair(columns[a], columns[b]) for b in metrics) for a in metrics)
    left_out = sorted(set(columns) - usable)
    note = None
    if left_out:
        note = (f"left out (constant, or recorded by fewer than {MIN_TRIALS_FOR_CORRELATION} trials): "
                f"{', '.join(left_out)}")
    return Correlations(metrics, rho, len(done), note)


def _pair(a: Mapping[int, float], b: Mapping[int, float]) -> float | None:
    shared = sorted(a.keys() & b.keys())
    return spearman([a[n] for n in shared], [b[n] for n in shared])


def held_out_scores(test_scores: Any, objectives: Sequence[ObjectiveInfo]) -> HeldOut:
    """The ``test_scores`` study attribute as rows: base model first, then trials by number."""
    if not isinstance(test_scores, Mapping) or not test_scores:
        return HeldOut((), (), "no test-split scores yet: run python -m study.export")
    scores = {str(key): {m: _number(v) for m, v in value.items()}
              for key, value in test_scores.items() if isinstance(value, Mapping)}
    base = scores.get(BASE)
    rows = [HeldOutRow("base model", None, base, {})] if base is not None else []
    for number in sorted(int(k) for k in scores if k.isdigit()):
        trial = scores[str(number)]
        gains = {m: _gain(v, base.get(m)) for m, v in trial.items()} if base is not None else {}
        rows.append(HeldOutRow(f"trial {number}", number, trial, gains))
    metrics = _ordered({m for r in rows for m, v in r.scores.items() if v is not None}, objectives)
    note = None if base is not None else "the base model was not scored: gains cannot be shown"
    return HeldOut(metrics, tuple(rows), note)


def _gain(value: float | None, base: float | None) -> float | None:
    return value - base if value is not None and base is not None else None


def _points(rows: Sequence[TrialRow], x: str, y: str,
            group: Callable[[TrialRow], str] | None = None) -> tuple[Point, ...]:
    """COMPLETE trials that recorded both metrics; ``group(row)`` names each trial's group."""
    out = []
    for r in _complete(rows):
        vx, vy = _number(r.metrics.get(x)), _number(r.metrics.get(y))
        if vx is not None and vy is not None:
            out.append(Point(r.number, r.params, vx, vy, group(r) if group else None))
    return tuple(out)


def forgetting(rows: Sequence[TrialRow], x_metric: str = DOMAIN_METRIC) -> Forgetting:
    """Quiz accuracy after tuning against the domain metric, with the base model's accuracy.

    The base accuracy is the mean of ``general_accuracy_base`` over the trials; every worker
    scores the same base model on the same quiz, so the values agree.
    """
    done = _complete(rows)
    base_values = [v for r in done if (v := _number(r.metrics.get("general_accuracy_base"))) is not None]
    base = statistics.fmean(base_values) if base_values else None
    if not any(_number(r.metrics.get("general_accuracy")) is not None for r in done):
        note = "no COMPLETE trial recorded general_accuracy (set evaluation.general_questions > 0)"
        return Forgetting(x_metric, (), base, note)
    points = _points(done, x_metric, "general_accuracy")
    left_out = sum(_number(r.metrics.get("general_accuracy")) is not None for r in done) - len(points)
    note = f"{left_out} trials without {x_metric} are left out" if left_out else None
    return Forgetting(x_metric, points, base, note)


def pretrain_epochs(row: TrialRow) -> int | None:
    """``pretraining.epochs`` of the trial's config; a config without the section ran with the
    default, 0. None when the trial recorded no config at all."""
    if not row.config:
        return None
    return int((row.config.get("pretraining") or {}).get("epochs") or 0)


def pretraining_comparison(rows: Sequence[TrialRow], objectives: Sequence[ObjectiveInfo]) -> Pretraining:
    """Each objective over the trials without, then with, continued pre-training."""
    done = [r for r in _complete(rows) if r.values is not None]
    if not done:
        return Pretraining((), "no COMPLETE trials yet")
    epochs = {r.number: pretrain_epochs(r) for r in done}
    split = ((PRETRAIN_OFF, [r for r in done if epochs[r.number] == 0]),
             (PRETRAIN_ON, [r for r in done if (epochs[r.number] or 0) > 0]))
    comparisons = []
    for i, objective in enumerate(objectives):
        pick = max if objective.direction == "maximize" else min
        groups = []
        for label, members in split:
            if members:
                values = tuple(r.values[i] for r in members)  # type: ignore[index]  # complete trials
                groups.append(Group(label, tuple(r.number for r in members), values,
                                    statistics.fmean(values), pick(values)))
        comparisons.append(GroupComparison(objective, tuple(groups)))
    notes = []
    present = [label for label, members in split if members]
    if len(present) == 1:
        notes.append(f"every COMPLETE trial ran with continued pre-training {present[0]}: nothing to compare")
    unknown = sum(e is None for e in epochs.values())
    if unknown:
        notes.append(f"{unknown} trials without a recorded config are left out")
    return Pretraining(tuple(comparisons), "; ".join(notes) or None)


def answer_style(row: TrialRow) -> str:
    """The trial's ``data.answer_style``, or "none" when it used the plain system prompt."""
    return str((row.config.get("data") or {}).get("answer_style") or "none")


def length_tradeoff(rows: Sequence[TrialRow], objectives: Sequence[ObjectiveInfo],
                    x_metric: str = DOMAIN_METRIC) -> LengthTradeoff:
    """Answer length against the domain metric, grouped by answer style when any trial set one.

    The length metric is the one the study optimises, else the first of :data:`LENGTH_METRICS`
    that a trial recorded.
    """
    done = _complete(rows)
    recorded = {m for r in done for m in LENGTH_METRICS if _number(r.metrics.get(m)) is not None}
    chosen = [o.metric for o in objectives if o.metric in recorded] + [m for m in LENGTH_METRICS if m in recorded]
    if not chosen:
        return LengthTradeoff(x_metric, None, (), f"no COMPLETE trial recorded {' or '.join(LENGTH_METRICS)}")
    styled = any(answer_style(r) != "none" for r in done)
    points = _points(done, x_metric, chosen[0], answer_style if styled else None)
    note = None if points else f"no COMPLETE trial recorded both {x_metric} and {chosen[0]}"
    return LengthTradeoff(x_metric, chosen[0], points, note)


def human_evaluation(human_eval: Any, human_agreement: Any, rows: Sequence[TrialRow],
                     objectives: Sequence[ObjectiveInfo]) -> HumanEval:
    """Mean human rating of each rated trial beside its objectives, and each metric's agreement."""
    names = tuple(o.metric for o in objectives)
    if not isinstance(human_eval, Mapping) or not human_eval:
        return HumanEval(names, (), {}, "no human ratings yet: run python -m study.human_eval export, then import")
    by_number = {r.number: r for r in rows}
    out = []
    for key, rating in human_eval.items():
        mean = _number(rating.get("mean_rating")) if isinstance(rating, Mapping) else None
        if mean is None or not str(key).isdigit():
            continue
        number = int(key)
        metrics = by_number[number].metrics if number in by_number else {}
        out.append(HumanRow(number, mean, int(rating.get("n") or 0), {m: _number(metrics.get(m)) for m in names}))
    out.sort(key=lambda h: (-h.mean_rating, h.number))
    agreement = dict(human_agreement) if isinstance(human_agreement, Mapping) else {}
    agreement = {m: _number(agreement[m]) for m in _ordered(set(agreement), objectives)}
    note = None
    if not agreement:
        note = "no agreement with the automatic metrics recorded (human_agreement)"
    elif all(v is None for v in agreement.values()):
        note = f"agreement needs ratings of at least {MIN_TRIALS_FOR_CORRELATION} trials"
    return HumanEval(names, tuple(out), agreement, note)
