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
    ``distributions`` feed the terminator's Gaussian process.
    """

    number: int
    value: float | None
    scores: tuple[float, ...] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    distributions: Mapping[str, Any] = field(default_factory=dict)


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
    from objectives import paired_difference

    if new.value is None or old.value is None or not new.scores or not old.scores:
        return False
    if len(new.scores) != len(old.scores):
        return False
    a, b = (new.scores, old.scores) if maximize else (old.scores, new.scores)
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
    after = trials[last + 1:]
    since = sum(1 for t in after if settings.count_pruned or (t.value is not None and math.isfinite(t.value)))
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
