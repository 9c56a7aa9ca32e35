"""When a study stops on its own: further trials are unlikely to beat its best by more than the noise.

The rules judge the study's **first objective** (not the Pareto front as a whole) from what every
finished trial stores: its per-question scores (``per_question``) and, once ``study.confirm`` has
measured it, the study's seed-to-seed noise floor (``noise_floor``). Two rules (``study.stop.rule``):

- ``patience``: none of the last K finished trials beat the best by more than the noise. A trial
  beats the best when the paired 95 % bootstrap interval of its difference on the same questions
  lies above 0 and, once the noise floor is measured, the difference also exceeds it. The best it
  is compared with is the one of the last such improvement, so a drift of small steps, each within
  the noise, still counts once it adds up to more.
- ``terminator``: Optuna's regret bound (a Gaussian process over the configurations; Makarova et
  al. 2022) falls below the noise of the best trial (:mod:`study.optimize.regret`).

The decision functions are pure over :class:`Finished` records, so that they are tested on seeded
simulations (:mod:`study.optimize.stop_rules`, :mod:`study.optimize.regret`); :func:`check`
applies the study's rule to a study and records a stop on it.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from study.core import keys
from study.core.settings import StopSettings
from study.optimize.regret import terminator
from study.optimize.stop_rules import Decision, Finished, best_of, patience

STOP = keys.STOP  # study user attribute: the decision that stopped the study (Decision.to_dict)


def decide(trials: Sequence[Finished], maximize: bool, settings: StopSettings,
           floor: float | None = None, seed: int = 0) -> Decision:
    """The study's rule over its finished trials (in the order they finished)."""
    if len(trials) < settings.min_trials:
        best = best_of(trials, maximize)
        return Decision(False, settings.rule, len(trials), best.number if best else None,
                        f"fewer than min_trials {settings.min_trials} finished trials")
    if settings.rule == "terminator":
        return terminator(trials, maximize, settings, floor, seed=seed)
    return patience(trials, maximize, settings, floor)


def finished_trials(study: Any, metric: str) -> list[Finished]:
    """The study's finished fine-tunes (complete or pruned; not the base model) in the order they finished."""
    from optuna.trial import TrialState

    from study.optimize import reference

    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
            if not reference.is_base(t)]
    done.sort(key=lambda t: (t.datetime_complete is None, t.datetime_complete, t.number))
    out = []
    for t in done:
        scores = (t.user_attrs.get(keys.PER_QUESTION) or {}).get(metric)
        ok = scores and all(isinstance(s, (int, float)) and math.isfinite(s) for s in scores)
        value = t.values[0] if t.state == TrialState.COMPLETE and t.values else None
        out.append(Finished(t.number, value, tuple(float(s) for s in scores) if ok else None,
                            dict(t.params), dict(t.distributions)))
    return out


def noise_floor(study: Any, metric: str) -> float | None:
    floor = (study.user_attrs.get(keys.NOISE_FLOOR) or {}).get(metric)
    return float(floor) if isinstance(floor, (int, float)) and math.isfinite(floor) else None


def check(study: Any, settings: StopSettings, metric: str, maximize: bool, fresh: bool = False) -> Decision | None:
    """The study's decision, made once and stored on it: the decision that stops this worker, or None.

    A decision already stored (by any worker of this study) is taken as it is, unless ``fresh``:
    a worker that starts (a new or resumed run) decides again on the trials there are, storing a
    stop or clearing an old one, so a resumed study re-decides.
    """
    stored = study.user_attrs.get(STOP)
    if stored and stored.get("stop") and not fresh:
        return Decision(**stored)
    decision = decide(finished_trials(study, metric), maximize, settings, noise_floor(study, metric))
    _remember(study, decision)
    if decision.stop:
        study.set_user_attr(STOP, decision.to_dict())
        return decision
    if stored:
        study.set_user_attr(STOP, None)  # an old decision no longer holds (e.g. a rule changed): it goes on
    return None


def _remember(study: Any, decision: Decision) -> None:
    """The rule's estimate at this decision, for the report's stopping curve (a point each finished count)."""
    if decision.estimate is None:
        return  # before min_trials, or no value yet: the rule did not judge
    curve = dict(study.user_attrs.get(keys.STOP_CURVE) or {})
    point = {"best": decision.best, "estimate": decision.estimate, "noise": decision.noise, "rule": decision.rule}
    if curve.get(str(decision.finished)) != point:
        curve[str(decision.finished)] = point
        study.set_user_attr(keys.STOP_CURVE, curve)


__all__ = ["STOP", "Decision", "Finished", "check", "decide", "finished_trials", "noise_floor"]
