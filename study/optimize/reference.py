"""The untuned base model as a point of every study: the trial with user attribute ``reference: "base"``.

Scored once per study, before the first fine-tune, on the validation split with the same
metrics, per-question scores and intervals as a trial, so every gain is measured against it.
It is added through the storage rather than asked from the sampler: it has no parameters,
so samplers that model or breed parameters (TPE, GP, NSGA-II, grid) pass over it, while the
dashboard and the report plot it on the Pareto front with the trials.

Several workers: the base trial is claimed (:mod:`study.optimize.claims`), so the base model
is scored once; a worker that dies while scoring it leaves a trial that stops beating and is
failed, and the next worker to start scores the base again.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from study.core import keys
from study.core.config import DecodingConfig, TrialConfig
from study.optimize import claims

BASE = "base"
BASE_ATTRS = {keys.REFERENCE: BASE}


def is_base(trial: Any) -> bool:
    return trial.user_attrs.get(keys.REFERENCE) == BASE


def completed_base(study: optuna.Study) -> FrozenTrial | None:
    """The study's scored base trial, or None (not scored yet, or a study from before references)."""
    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if is_base(t)]
    return min(done, key=lambda t: t.number) if done else None


def needs_base(study: optuna.Study) -> bool:
    """True when no base trial is scored or being scored."""
    return not claims.live(study, BASE_ATTRS)


def claim_base(study: optuna.Study) -> claims.StoredTrial | None:
    """A RUNNING base trial for this process to score, or None where another process scores it."""
    return claims.claim(study, BASE_ATTRS)


def reference_config(cfg: TrialConfig, searched: set[str]) -> tuple[TrialConfig, str]:
    """The configuration the base model is scored with, and a sentence saying how it decodes.

    ``cfg`` holds the space's fixed values; decoding keys the space searches take their
    defaults (a searched temperature has no value before a trial proposes one).
    """
    keys_searched = sorted(name.split(".", 1)[1] for name in searched if name.startswith("decoding."))
    if not keys_searched:
        return cfg, "the space's decoding (not searched)"
    defaults = DecodingConfig()
    decoding = dataclasses.replace(cfg.decoding, **{k: getattr(defaults, k) for k in keys_searched})
    shown = ", ".join(f"{k}={getattr(decoding, k)}" for k in keys_searched)
    return dataclasses.replace(cfg, decoding=decoding), f"the default decoding for the searched keys ({shown})"
