"""The stopping rules' records, and the patience rule (see :mod:`study.optimize.stopping`).

Pure functions over :class:`Finished` records in the order the trials finished, so that they are
tested on seeded simulations with known answers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

from study.core.settings import StopSettings


@dataclass(frozen=True)
class Finished:
    """A finished trial as the rules see it: its first objective's value and per-question scores.

    ``value`` is None for a pruned trial (finished, but it beat nothing); ``params`` and
    ``distributions`` feed the terminator's Gaussian process; ``per_metric`` holds the per-question
    scores of every objective that has them, for the rule on the Pareto front.
    """

    number: int
    value: float | None
    scores: tuple[float, ...] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    distributions: Mapping[str, Any] = field(default_factory=dict)
    per_metric: Mapping[str, tuple[float, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """Whether to stop after ``finished`` trials, and why; ``estimate`` and ``noise`` are the rule's figures."""

    stop: bool
    rule: str
    finished: int
    best: int | None
    reason: str
    estimate: float | None = None  # patience: trials since the last improvement; terminator: the regret bound
    noise: float | None = None  # the noise the rule compared with (noise floor, or the best's standard error)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        return f"stopping after {self.finished} trials: {self.reason}"


def best_of(trials: Sequence[Finished], maximize: bool) -> Finished | None:
    done = [t for t in trials if t.value is not None and math.isfinite(t.value)]
    if not done:
        return None
    return (max if maximize else min)(done, key=lambda t: t.value)


def beats(new: Finished, old: Finished, maximize: bool, floor: float | None, seed: int = 0) -> bool:
    """``new`` is better than ``old`` by more than the noise, on the same questions."""
    if new.value is None or old.value is None:
        return False
    return clearly_better(new.scores, old.scores, maximize, floor, seed)


def clearly_better(new: Sequence[float] | None, old: Sequence[float] | None, maximize: bool,
                   floor: float | None, seed: int = 0) -> bool:
    """Per-question scores ``new`` beat ``old`` by more than the noise: the paired 95 % interval of the
    difference lies above 0 and, where the noise floor is known, the difference exceeds it."""
    from objectives import paired_difference

    if not new or not old or len(new) != len(old):
        return False
    a, b = (new, old) if maximize else (old, new)
    diff = paired_difference(a, b, seed=seed)
    return diff.low > 0 and (floor is None or diff.estimate > floor)


def patience(trials: Sequence[Finished], maximize: bool, settings: StopSettings,
             floor: float | None = None) -> Decision:
    """Stop once ``settings.patience`` finished trials in a row did not beat the best by more than the noise."""
    anchor: Finished | None = None  # the best as of the last improvement
    last = -1  # index of the last improvement
    for i, t in enumerate(trials):
        if t.value is None or not math.isfinite(t.value):
            continue
        if anchor is None or beats(t, anchor, maximize, floor):  # within the noise the anchor stays
            anchor, last = t, i
    best = best_of(trials, maximize)
    since = _since(trials, last, settings)
    noise = f"the noise floor {floor:.3g}" if floor is not None else "the noise"
    if best is None:
        return Decision(False, "patience", len(trials), None, "no finished trial has a value yet", float(since), floor)
    stop = len(trials) >= settings.min_trials and since >= settings.patience
    questions = len(best.scores) if best.scores else 0
    if not best.scores:
        return Decision(False, "patience", len(trials), best.number,
                        "the first objective has no per-question scores: its noise is unknown, the rule cannot "
                        "stop the study", float(since), floor)
    counted = "finished trials" if settings.count_pruned else "trials that finished with a value"
    reason = (f"none of the last {since} {counted} beat the best (trial {anchor.number if anchor else '?'}"
              f"{'' if anchor is best else f'; best value trial {best.number}'}, {best.value:.4g}) by more than "
              f"{noise} (paired 95 % interval on the same {questions} questions; patience {settings.patience})")
    return Decision(stop, "patience", len(trials), best.number, reason, float(since), floor)


def front_patience(trials: Sequence[Finished], directions: Mapping[str, bool], settings: StopSettings,
                   floors: Mapping[str, float | None] | None = None) -> Decision:
    """Patience on the Pareto front of the objectives in ``directions`` (metric -> maximize).

    A trial improves the front when, against each earlier improvement, it is better by more than the
    noise on at least one objective: it is not within the noise of being dominated by any of them.
    With one objective this is :func:`patience`. The study stops once ``settings.patience`` finished
    trials in a row did not improve the front.
    """
    floors = floors or {}
    judged = list(directions)
    improvements: list[Finished] = []
    last = -1
    for i, t in enumerate(trials):
        if t.value is None or not all(t.per_metric.get(m) for m in judged):
            continue
        if all(any(clearly_better(t.per_metric[m], old.per_metric[m], directions[m], floors.get(m)) for m in judged)
               for old in improvements):
            improvements.append(t)
            last = i
    since = _since(trials, last, settings)
    if not improvements:
        return Decision(False, "patience", len(trials), None,
                        f"no finished trial has per-question scores of {', '.join(judged)} yet", float(since))
    latest = improvements[-1]
    stop = len(trials) >= settings.min_trials and since >= settings.patience
    counted = "finished trials" if settings.count_pruned else "trials that finished with a value"
    noise = "the noise floors" if any(floors.get(m) is not None for m in judged) else "the noise"
    reason = (f"none of the last {since} {counted} improved the Pareto front of {', '.join(judged)} by more than "
              f"{noise} (each against the {len(improvements)} earlier improvements, the last trial "
              f"{latest.number}; paired 95 % intervals on the same {len(latest.per_metric[judged[0]])} questions; "
              f"patience {settings.patience})")
    return Decision(stop, "patience", len(trials), latest.number, reason, float(since))


def _since(trials: Sequence[Finished], last: int, settings: StopSettings) -> int:
    """Finished trials after index ``last`` that count toward patience."""
    return sum(1 for t in trials[last + 1:]
               if settings.count_pruned or (t.value is not None and math.isfinite(t.value)))
