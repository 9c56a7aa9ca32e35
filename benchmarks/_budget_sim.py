"""Simulated studies for ``benchmarks.budget --simulate``: the stopping rules on trial scores of a known model.

A simulated trial is a configuration the real sampler (TPE, as the study's) proposes from a real
search space; its score on each validation question is the question's difficulty, plus the
configuration's true effect, plus its training run's shift (the seed-to-seed noise, one draw over
all questions), plus the answer's noise on that question. The same trained model answers the 38
test questions the same way, with test difficulties of their own. The sizes come from the default
study (the issue's and reports/examples/default-trust.md's figures): a ROUGE-L interval of about
±0.027 per trial over 38 questions, a paired interval of about ±0.03 between two trials, a seed SD
of about 0.02. The true effects (:func:`effect`) are an assumption of this model, stated there; so the
simulation measures the rules, not the priors of the spaces.

Pruning, where the space has a pruner (the default space's median pruner pruned 28 of 50 real
trials at about a quarter of a trial's seconds): at its first check a trial shows its true effect
and training shift through the noise of a few short answers (``check_sd``); once ``startup``
trials have finished, one below the median of the earlier trials' checks is pruned there. It
costs ``pruned_cost`` of its seconds and has no value, as a real pruned trial.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from study.optimize.stop_rules import Finished


@dataclass(frozen=True)
class ScoreModel:
    questions: int = 38
    base: float = 0.15          # a mean configuration's ROUGE-L
    question_sd: float = 0.07   # how questions differ in difficulty (shared by every trial)
    answer_sd: float = 0.065    # a trained model's answer noise on one question (paired SD ~0.09 between two trials)
    seed_sd: float = 0.02       # a training run's shift over all questions: the seed-to-seed noise
    effect_scale: float = 1.0   # true effects times this: 3 makes the search matter (a space with worse corners)
    prune: bool = True          # a median pruner at the first check (off where the space has no pruner)
    check_sd: float = 0.025     # the first check's noise: 12 short answers (ranks trials as the final score ~0.8)
    pruned_cost: float = 0.25   # a pruned trial's seconds / its seconds had it finished
    startup: int = 4            # finished trials before the pruner prunes (the median pruner's n_startup_trials)


def effect(cfg: Any) -> float:
    """The assumed true effect of a configuration on ROUGE-L (a model, not a measurement).

    The update's scale is ``learning_rate * alpha / 32`` (times sqrt(rank) with rsLoRA): with
    alpha/r scaling the best rate does not move with the rank, as LoRA Without Regret found.
    The effect falls off quadratically in log10 of the scale around 6e-4 (0.04 per decade
    squared); all-linear adapters add 0.015, one epoch costs 0.01, sampling 0.01, a
    repetition penalty 0.02 per unit; the rest (dropout, warmup, scheduler, top_p) does nothing.
    """
    lora, training, decoding = cfg.lora, cfg.training, cfg.decoding
    scale = training.learning_rate * lora.alpha / 32.0 * (math.sqrt(lora.rank) if lora.use_rslora else 1.0)
    out = -0.04 * (math.log10(scale) - math.log10(6e-4)) ** 2
    out += 0.015 if lora.target_modules == "all_linear" else 0.0
    out += -0.01 if training.epochs == 1 else 0.0
    out += -0.01 if decoding.do_sample else 0.0
    out += -0.02 * (decoding.repetition_penalty - 1.0)
    return out


def seconds(cfg: Any) -> float:
    """A trial's assumed seconds: training grows with epochs and all-linear adapters, answering with tokens."""
    train = 20.0 * cfg.training.epochs * (1.3 if cfg.lora.target_modules == "all_linear" else 1.0)
    return 15.0 + train + 10.0 * cfg.decoding.max_new_tokens / 32


@dataclass(frozen=True)
class SimTrial:
    finished: Finished
    effect: float
    seconds: float
    test: tuple[float, ...]  # the same trained model on the test questions


def simulate_study(space: Any, n_trials: int, seed: int, model: ScoreModel = ScoreModel()) -> list[SimTrial]:
    """One simulated study of ``n_trials`` on ``space`` with the study's TPE sampler (first objective only)."""
    import optuna

    from study.optimize.samplers import make_sampler

    rng = np.random.default_rng(seed)
    val_difficulty = rng.normal(model.base, model.question_sd, model.questions)
    test_difficulty = rng.normal(model.base, model.question_sd, model.questions)
    study = optuna.create_study(direction="maximize", sampler=make_sampler("tpe", seed))
    checks: list[float] = []  # every earlier trial's value at the first check
    out = []
    for _ in range(n_trials):
        trial = study.ask()
        cfg = space.suggest(trial)
        true = model.effect_scale * effect(cfg)
        shift = rng.normal(0.0, model.seed_sd)
        val = val_difficulty + true + shift + rng.normal(0.0, model.answer_sd, model.questions)
        test = test_difficulty + true + shift + rng.normal(0.0, model.answer_sd, model.questions)
        check = model.base + true + shift + rng.normal(0.0, model.check_sd)
        pruned = model.prune and len(out) >= model.startup and check < float(np.median(checks))
        checks.append(check)
        trial.report(check, step=0)
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, float(val.mean()))
        frozen = study.trials[-1]
        finished = Finished(trial.number, None if pruned else float(val.mean()), None if pruned else tuple(val.tolist()),
                            dict(frozen.params), dict(frozen.distributions))
        cost = seconds(cfg) * (model.pruned_cost if pruned else 1.0)
        out.append(SimTrial(finished, true, cost, tuple(test.tolist())))
    return out
