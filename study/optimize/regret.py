"""The ``terminator`` stopping rule: Optuna's regret bound against the noise of the study's best trial.

Optuna's ``Terminator`` (Makarova et al. 2022) stops when a Gaussian process's upper bound on
the regret of the best trial (how much better the best configuration of the space may still be)
falls below the statistical error of the objective. Its own error evaluator needs
cross-validation scores, which a QA study does not have; :class:`PerQuestionError` takes the
error from what every trial stores instead: the standard error of the best trial's mean over its
questions, or the study's seed-to-seed noise floor once ``study.confirm`` has measured it.

The Terminator is single-objective, so the rule sees the first objective only. It is called
here through its two evaluators, as ``Terminator.should_terminate`` does (regret bound < error),
since the ``Terminator`` class warns of its deprecation (optuna.terminator is deprecated from
Optuna 4.9 and announced for removal in 6.0; the evaluators fit the GP with torch).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np
from optuna.study import StudyDirection
from optuna.terminator.erroreval import BaseErrorEvaluator

from study.core.settings import StopSettings
from study.optimize.stop_rules import Decision, Finished, best_of

SCORES = "first_objective_scores"  # user attribute of the single-objective copies: per-question scores


class PerQuestionError(BaseErrorEvaluator):
    """The error of the best trial's value: its standard error over questions, or the noise floor."""

    def __init__(self, floor: float | None = None) -> None:
        self.floor = floor

    def evaluate(self, trials: list[Any], study_direction: StudyDirection) -> float:
        complete = [t for t in trials if t.value is not None]
        pick = max if study_direction == StudyDirection.MAXIMIZE else min
        best = pick(complete, key=lambda t: t.value)
        if self.floor is not None:
            return self.floor
        scores = np.asarray(best.user_attrs.get(SCORES) or [], dtype=float)
        if scores.size < 2:
            return 0.0  # no noise known: the rule cannot stop the study
        return float(scores.std(ddof=1) / math.sqrt(scores.size))


def _frozen(trials: Sequence[Finished]) -> list[Any]:
    """Single-objective copies of the complete trials, as Optuna's evaluators read them."""
    from optuna.trial import create_trial

    return [create_trial(params=dict(t.params), distributions=dict(t.distributions), value=t.value,
                         user_attrs={SCORES: list(t.scores or [])})
            for t in trials if t.value is not None and math.isfinite(t.value) and t.params]


def terminator(trials: Sequence[Finished], maximize: bool, settings: StopSettings,
               floor: float | None = None, seed: int = 0) -> Decision:
    """Stop when the GP's regret bound of the best trial falls below its noise (first objective)."""
    from optuna.exceptions import ExperimentalWarning
    from optuna.terminator import RegretBoundEvaluator

    best = best_of(trials, maximize)
    frozen = _frozen(trials)
    if best is None or len(frozen) < 2:
        return Decision(False, "terminator", len(trials), best.number if best else None,
                        "too few complete trials with parameters for the regret bound")
    direction = StudyDirection.MAXIMIZE if maximize else StudyDirection.MINIMIZE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        regret = float(RegretBoundEvaluator(seed=seed).evaluate(frozen, direction))
        error = float(PerQuestionError(floor).evaluate(frozen, direction))
    stop = error > 0 and regret < error
    noise = (f"the noise floor {error:.3g}" if floor is not None
             else f"the best's standard error over {len(best.scores or ())} questions, {error:.3g}")
    reason = (f"the regret bound of the best (trial {best.number}, {best.value:.4g}) is {regret:.3g}, "
              f"{'below' if stop else 'not below'} {noise} (Optuna's regret bound, a Gaussian process "
              f"over {len(frozen)} complete trials)")
    return Decision(stop, "terminator", len(trials), best.number, reason, regret, error)


__all__ = ["PerQuestionError", "SCORES", "terminator"]
