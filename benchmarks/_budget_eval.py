"""What ``benchmarks.budget`` measures of one study and one stopping rule, and over many studies.

A rule is a pure function of the finished trials in the order they finished
(:func:`study.optimize.stopping.decide`), and stopping only ends a study early, it changes no
proposal: so one full study of N trials shows both where the rule stops and what N trials find.
The configuration chosen at the stop (the best first objective among the trials before it) is
compared with the one chosen after N on questions that chose neither (the test split): a paired
95 % interval on the same questions; indistinguishable when it contains 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from study.core.settings import StopSettings
from study.optimize.stop_rules import Finished


@dataclass(frozen=True)
class Outcome:
    """One rule on one study."""

    rule: str
    stopped_at: int  # finished trials when the rule stopped (N: it did not)
    n_trials: int
    share: float  # trial-seconds until the stop / trial-seconds of all N
    same_choice: bool
    difference: tuple[float, float, float] | None  # test: chosen at stop - chosen after N (estimate, low, high)
    indistinguishable: bool
    true_loss: float | None = None  # simulation only: true effect of the choice after N minus at the stop


def stop_point(trials: Sequence[Finished], maximize: bool, rule: StopSettings | int,
               front: Mapping[str, bool] | None = None) -> int:
    """Finished trials when ``rule`` stops the study (a number: a fixed budget); all of them if it never does.
    ``front``: the objectives a rule with ``judge: front`` judges (metric -> maximize)."""
    from study.optimize.stopping import decide

    if isinstance(rule, int):
        return min(rule, len(trials))
    for n in range(rule.min_trials, len(trials) + 1):
        if decide(trials[:n], maximize, rule, front=front).stop:
            return n
    return len(trials)


def best_index(trials: Sequence[Finished], maximize: bool) -> int:
    done = [i for i, t in enumerate(trials) if t.value is not None and math.isfinite(t.value)]
    return (max if maximize else min)(done, key=lambda i: trials[i].value)


def outcome(name: str, rule: StopSettings | int, trials: Sequence[Finished], seconds: Sequence[float],
            test_scores: Callable[[int], Sequence[float]], maximize: bool = True,
            effects: Sequence[float] | None = None, front: Mapping[str, bool] | None = None) -> Outcome:
    """Where ``rule`` stops this study, what it saves, and whether its choice is the full study's, on the test split.

    ``test_scores(i)``: the test-split scores of the configuration of trial index ``i`` (a simulation
    has them; a real study re-trains the two chosen configurations and answers the test split).
    """
    from objectives import paired_difference

    n = stop_point(trials, maximize, rule, front)
    early, full = best_index(trials[:n], maximize), best_index(trials, maximize)
    share = sum(seconds[:n]) / sum(seconds)
    if early == full:
        diff, indistinguishable = (0.0, 0.0, 0.0), True
    else:
        a, b = test_scores(early), test_scores(full)
        interval = paired_difference(a, b) if maximize else paired_difference(b, a)
        diff, indistinguishable = (interval.estimate, interval.low, interval.high), interval.contains(0.0)
    loss = effects[full] - effects[early] if effects is not None else None
    return Outcome(name, n, len(trials), share, early == full, diff, indistinguishable, loss)


def summary(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Over studies: mean share of trial-seconds (bootstrap 95 %), indistinguishable share (Wilson 95 %), true loss."""
    from scipy.stats import binomtest

    from objectives import mean_interval

    shares = [o.share for o in outcomes]
    share = mean_interval(shares) if len(shares) > 1 else None
    k = sum(o.indistinguishable for o in outcomes)
    ci = binomtest(k, len(outcomes)).proportion_ci(method="wilson")
    out: dict[str, Any] = {
        "studies": len(outcomes),
        "share_of_trial_seconds": share.estimate if share else shares[0],
        "share_ci95": [share.low, share.high] if share else None,
        "stopped_at_median": sorted(o.stopped_at for o in outcomes)[len(outcomes) // 2],
        "same_choice": sum(o.same_choice for o in outcomes),
        "indistinguishable": k,
        "indistinguishable_share": k / len(outcomes),
        "indistinguishable_ci95": [ci.low, ci.high],
    }
    losses = [o.true_loss for o in outcomes if o.true_loss is not None]
    if len(losses) > 1:
        loss = mean_interval(losses)
        out.update(true_loss=loss.estimate, true_loss_ci95=[loss.low, loss.high], true_loss_max=max(losses))
    return out
