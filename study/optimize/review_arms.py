"""What a clinicians' review shows: the chosen configurations' answers and the base model's, under the same decoding.

An *arm* is one set of validation answers with their per-question scores: a configuration
(a trial of the main study) or the base model under one set of inference settings (decoding,
prompt, retrieval: :meth:`TrialConfig.inference_key`). They are searched, so a configuration
that samples at temperature 0.7 is compared with the base model sampling at 0.7, not with
the base model's greedy answers: where the study's base trial answered otherwise, the base
model answers again as the configuration does (:func:`base_answers`, which loads the model;
:mod:`study.finetune.fair_base` scores it) and the answers are kept on the main study
(``review_base_answers``), so a second rater does not generate them again.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

import objectives
from study.core import keys
from study.core.config import TrialConfig
from study.core.errors import StudyError
from study.optimize.records import trial_config
from study.optimize.reference import completed_base, is_base

BASE = "base"


@dataclass(frozen=True)
class Arm:
    """One set of answers shown to the raters: a configuration's, or the base model's under one decoding."""

    label: str  # "trial 7", "base" (as the base trial answered) or "base as trial 7" (with trial 7's settings)
    trial: int | None  # the main study's trial; None for the base model
    inference: str  # TrialConfig.inference_key() of the settings it answered with
    answers: tuple[str, ...]
    scores: Mapping[str, Sequence[Any]]  # metric -> per-question score, validation order
    base: str | None = None  # a configuration's base arm (same decoding); None for a base arm


def choose_configurations(study: optuna.Study, spec: str) -> list[FrozenTrial]:
    """The trials named by ``--configs``: ``confirmed`` (study.confirm ran), ``pareto``, or ``N,M``."""
    from study.optimize.confirmed import confirmed

    complete = {t.number: t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                if not is_base(t)}
    if spec == "confirmed":
        numbers = sorted(n for n in confirmed(study) if n in complete)
        if not numbers:
            raise StudyError(f"--configs confirmed: study '{study.study_name}' has no confirmed configuration "
                             f"(run python -m study.confirm --study-name {study.study_name}, or pass --configs pareto)")
    elif spec == "pareto":
        numbers = sorted(t.number for t in study.best_trials if t.number in complete)
        if complete and not numbers:
            raise StudyError(f"--configs pareto: the Pareto front of '{study.study_name}' holds only the base model; "
                             f"name the trials to review (--configs N,M; fine-tunes: "
                             f"{', '.join(map(str, sorted(complete)))})")
    else:
        try:
            numbers = [int(x) for x in spec.split(",") if x.strip()]
        except ValueError:
            raise StudyError(f"--configs {spec}: expected confirmed, pareto or comma-separated trial numbers") from None
        unknown = [n for n in numbers if n not in complete]
        if unknown:
            raise StudyError(f"--configs: trial(s) {', '.join(map(str, unknown))} are not COMPLETE fine-tunes "
                             f"of '{study.study_name}'")
    if not numbers:
        raise StudyError(f"study '{study.study_name}' has no completed fine-tune to review")
    chosen = [complete[n] for n in numbers]
    missing = [t.number for t in chosen if not t.user_attrs.get(keys.ANSWERS)]
    if missing:
        raise StudyError(f"--configs: trial(s) {', '.join(map(str, missing))} stored no answers to review")
    return chosen


def validation_questions(study: optuna.Study) -> list[Any]:
    """The validation pairs (question, reference) the study's answers belong to, in their order."""
    from study.finetune.data import load_splits

    base = completed_base(study)
    if base is None or keys.CONFIG not in base.user_attrs:
        raise StudyError(f"study '{study.study_name}' has no scored base model to compare the answers with")
    return list(load_splits(trial_config(base).data).val)


def _validation_scores(per_question: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """The per-question scores of the validation answers (not probes, quiz or counts)."""
    return {m: list(v) for m, v in per_question.items()
            if m not in objectives.OFF_VALIDATION_METRICS and not m.endswith(objectives.STATS_SUFFIX)}


def trial_arm(trial: FrozenTrial, base: str | None) -> Arm:
    attrs = trial.user_attrs
    return Arm(f"trial {trial.number}", trial.number, trial_config(trial).inference_key(),
               tuple(attrs.get(keys.ANSWERS) or ()), _validation_scores(attrs.get(keys.PER_QUESTION) or {}), base)


BaseAnswers = Callable[[TrialConfig], Mapping[str, Any]]


def arms(study: optuna.Study, chosen: Sequence[FrozenTrial], generate: BaseAnswers | None = None) -> list[Arm]:
    """The configurations' arms and one base arm per set of inference settings among them.

    The study's scored base trial gives the base arm of its own settings ("base"); any other
    ("base as trial N", N the study's first fine-tune with those settings, so that every rater's
    review names it alike) comes from the main study's ``review_base_answers``, or is generated
    with ``generate`` (default :func:`base_answers`) and stored there.
    """
    base_trial = completed_base(study)
    if base_trial is None or keys.CONFIG not in base_trial.user_attrs:
        raise StudyError(f"study '{study.study_name}' has no scored base model to compare the answers with")
    stored = dict(study.user_attrs.get(keys.REVIEW_BASE_ANSWERS) or {})
    first_with: dict[str, int] = {}
    for t in sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=lambda t: t.number):
        if keys.CONFIG in t.user_attrs and not is_base(t):
            first_with.setdefault(trial_config(t).inference_key(), t.number)
    by_settings: dict[str, Arm] = {}
    configs = []
    for trial in chosen:
        cfg = trial_config(trial)
        key = cfg.inference_key()
        if key not in by_settings:
            by_settings[key] = _base_arm(study, base_trial, cfg, key, stored, generate or base_answers,
                                         label=f"{BASE} as trial {first_with.get(key, trial.number)}")
        configs.append(trial_arm(trial, by_settings[key].label))
    return configs + list(by_settings.values())


def _base_arm(study: optuna.Study, base_trial: FrozenTrial, cfg: TrialConfig, key: str,
              stored: dict[str, Any], generate: BaseAnswers, label: str) -> Arm:
    if key == trial_config(base_trial).inference_key():
        attrs = base_trial.user_attrs
        return Arm(BASE, None, key, tuple(attrs.get(keys.ANSWERS) or ()),
                   _validation_scores(attrs.get(keys.PER_QUESTION) or {}))
    if key not in stored:
        stored[key] = dict(generate(cfg))
        study.set_user_attr(keys.REVIEW_BASE_ANSWERS, stored)
    return Arm(label, None, key, tuple(stored[key]["answers"]), _validation_scores(stored[key]["per_question"]))


def base_answers(cfg: TrialConfig) -> dict[str, Any]:
    """The untuned base model's validation answers and per-question scores with ``cfg``'s decoding, prompt and
    retrieval (loads the model; :func:`study.finetune.fair_base.score_pairs` answers as a trial's base is scored)."""
    from study.finetune.fair_base import score_pairs
    from study.finetune.workbench import Workbench

    print("the base model answers the validation questions with the decoding of the configurations "
          f"({json.loads(cfg.inference_key())['decoding']})")
    bench = Workbench.load(cfg)
    evaluation = score_pairs(bench.base.model, bench, cfg)
    # JSON has no NaN (Optuna stores user attributes as JSON)
    per_question = {m: [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]
                    for m, values in _validation_scores(evaluation.per_question).items()}
    return {"answers": list(evaluation.predictions), "per_question": per_question}
