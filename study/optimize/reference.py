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
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import optuna
from optuna.trial import FrozenTrial, TrialState

from study.core import keys
from study.core.config import DecodingConfig, TrialConfig
from study.optimize import claims
from study.optimize.recorder import Recorder, run_claimed

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


@dataclass
class BaseTrial:
    """The study's base trial as one worker sees it: scored by whichever worker claims it first, and
    the per-question scores every trial's gains are measured against."""

    study: optuna.Study
    base_cfg: TrialConfig  # the space's fixed values
    searched: set[str]  # the space's searched keys: those of decoding take their defaults
    trial_fn: Any  # the process's trial function; a test's stub has no score_base and scores no base model
    _per_question: dict[str, list] | None = field(default=None, init=False)

    def score(self, storage: Any, recorder: Recorder, say: Callable[[str], None],
              notes: Callable[[int], None]) -> None:
        """Score the untuned base model once per study, unless another worker has or does now."""
        score = getattr(self.trial_fn, "score_base", None)
        if score is None or not needs_base(self.study):
            return
        start = time.perf_counter()
        cfg, decoding = reference_config(self.base_cfg, self.searched)
        if self.study.user_attrs.get(keys.BASE_DECODING) != decoding:
            self.study.set_user_attr(keys.BASE_DECODING, decoding)
        outcome = run_claimed(self.study, storage, BASE_ATTRS, cfg, score,
                              lambda handle, result: recorder.record(handle, result, None, itself=True), say)
        if outcome is None:
            return  # another worker scores it
        handle, recorded = outcome
        notes(handle._trial_id)
        if recorded.values is None:  # the study goes on without it; the next run scores it again
            say(f"trial {handle.number:>3} FAIL      base model: {recorded.reason}")
            return
        self._remember(dict(handle.user_attrs[keys.PER_QUESTION]))
        shown = ", ".join(f"{o.metric}={v:.4g}" for o, v in zip(recorder.objectives, recorded.values))
        say(f"trial {handle.number:>3} COMPLETE  {shown}  ({time.perf_counter() - start:.0f} s)  "
            f"(the base model, untuned: {decoding})")

    def per_question(self) -> dict[str, list] | None:
        """Per-question scores of the study's base trial, once it is scored (by any worker)."""
        if self._per_question is None:
            base = completed_base(self.study)
            if base is not None:
                self._remember(base.user_attrs.get(keys.PER_QUESTION))
        return self._per_question

    def _remember(self, per_question: dict[str, list] | None) -> None:
        """A trial that answers as the base trial did is compared with the base trial's own answers: none generated."""
        self._per_question = per_question
        known = getattr(self.trial_fn, "base_answers", None)
        if known is not None and per_question:
            known.remember(reference_config(self.base_cfg, self.searched)[0], per_question)
