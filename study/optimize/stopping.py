"""When a study stops on its own: further trials are unlikely to beat its best by more than the noise.

The rules judge the study's **first objective** (``study.stop.judge: first``, the default) or, for
patience, the **Pareto front** of every objective with per-question scores (``judge: front``;
objectives without them, such as ``train_seconds``, are named and not judged), from what every
finished trial stores: its per-question scores (``per_question``) and, once ``study.confirm`` has
measured it, the study's seed-to-seed noise floor (``noise_floor``). Two rules (``study.stop.rule``):

- ``patience``: none of the last K finished trials beat the best by more than the noise. A trial
  beats the best when the paired 95 % bootstrap interval of its difference on the same questions
  lies above 0 and, once the noise floor is measured, the difference also exceeds it. The best it
  is compared with is the one of the last such improvement, so a drift of small steps, each within
  the noise, still counts once it adds up to more. On the front, a trial improves it when it is
  better by more than the noise on at least one objective than each earlier improvement
  (:func:`~study.optimize.stop_rules.front_patience`).
- ``terminator``: Optuna's regret bound (a Gaussian process over the configurations; Makarova et
  al. 2022) falls below the noise of the best trial (:mod:`study.optimize.regret`).

The decision functions are pure over :class:`Finished` records, so that they are tested on seeded
simulations (:mod:`study.optimize.stop_rules`, :mod:`study.optimize.regret`); :func:`check`
applies the study's rule to a study and records a stop on it.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from study.core import keys
from study.core.settings import StopSettings
from study.optimize.regret import terminator
from study.optimize.stop_rules import Decision, Finished, best_of, front_patience, patience

STOP = keys.STOP  # study user attribute: the decision that stopped the study (Decision.to_dict)


def decide(trials: Sequence[Finished], maximize: bool, settings: StopSettings,
           floor: float | None = None, seed: int = 0, front: Mapping[str, bool] | None = None,
           floors: Mapping[str, float | None] | None = None) -> Decision:
    """The study's rule over its finished trials (in the order they finished).

    ``front`` (metric -> maximize) are the objectives ``judge: front`` judges, the first one first;
    ``floors`` their noise floors. Without them, or with ``judge: first``, the first objective is judged.
    """
    if len(trials) < settings.min_trials:
        best = best_of(trials, maximize)
        return Decision(False, settings.rule, len(trials), best.number if best else None,
                        f"fewer than min_trials {settings.min_trials} finished trials")
    if settings.rule == "terminator":
        return terminator(trials, maximize, settings, floor, seed=seed)
    if settings.judge == "front" and front:
        return front_patience(trials, front, settings, floors)
    return patience(trials, maximize, settings, floor)


def finished_trials(study: Any, metric: str) -> list[Finished]:
    """The study's finished fine-tunes (complete or pruned; not the base model) in the order they finished;
    ``metric`` is the first objective's."""
    from optuna.trial import TrialState

    from study.optimize import reference

    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
            if not reference.is_base(t)]
    done.sort(key=lambda t: (t.datetime_complete is None, t.datetime_complete, t.number))
    out = []
    for t in done:
        per_metric = {name: tuple(float(s) for s in scores)
                      for name, scores in (t.user_attrs.get(keys.PER_QUESTION) or {}).items()
                      if scores and all(isinstance(s, (int, float)) and math.isfinite(s) for s in scores)}
        value = t.values[0] if t.state == TrialState.COMPLETE and t.values else None
        out.append(Finished(t.number, value, per_metric.get(metric), dict(t.params), dict(t.distributions),
                            per_metric))
    return out


def noise_floor(study: Any, metric: str) -> float | None:
    floor = (study.user_attrs.get(keys.NOISE_FLOOR) or {}).get(metric)
    return float(floor) if isinstance(floor, (int, float)) and math.isfinite(floor) else None


def judged_front(trials: Sequence[Finished], objectives: Sequence[tuple[str, bool]]) -> dict[str, bool]:
    """The objectives ``judge: front`` judges: those (metric, maximize) whose trials have per-question scores."""
    return {m: up for m, up in objectives if any(m in t.per_metric for t in trials)}


def check(study: Any, settings: StopSettings, objectives: Sequence[tuple[str, bool]],
          fresh: bool = False) -> Decision | None:
    """The study's decision, made once and stored on it: the decision that stops this worker, or None.

    ``objectives`` are the study's (metric, maximize), the first one first.

    A decision already stored (by any worker of this study) is taken as it is, unless ``fresh``:
    a worker that starts (a new or resumed run) decides again on the trials there are, storing a
    stop or clearing an old one, so a resumed study re-decides.
    """
    stored = study.user_attrs.get(STOP)
    if stored and stored.get("stop") and not fresh:
        return Decision(**stored)
    (metric, maximize), trials = objectives[0], finished_trials(study, objectives[0][0])
    front = judged_front(trials, objectives)
    decision = decide(trials, maximize, settings, noise_floor(study, metric), front=front,
                      floors={m: noise_floor(study, m) for m in front})
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


__all__ = ["STOP", "Decision", "Finished", "check", "decide", "finished_trials", "judged_front", "noise_floor"]
