"""The confirmation stage: re-train the best configurations with fresh seeds and score them again.

A study picks its best trial as the maximum of noisy estimates (one training seed, a few
dozen questions), so the pick flatters it: the winner's curse. Confirmation re-trains each of
the ``top`` best Pareto trials with ``seeds`` new training seeds (not the seed the study chose
them on), scores every validation question, and scores the base model on the same questions.
Per configuration it stores (study user attribute ``confirmed``, by trial number: Optuna
freezes a finished trial's attributes), for every metric: the mean over seeds, the seed-to-seed standard deviation (the noise floor of one
run), the 95 % interval over questions of the seed-averaged scores, and the paired gain over
the base model.

Each run is a trial of the confirmation study ``<name>.confirm`` with the user attributes
``confirms`` (the main trial's number, or "base") and ``seed``, claimed like the base trial
(:mod:`study.optimize.claims`): resumable, and each run done once with any number of workers.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, Callable, Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

import objectives
from objectives import Objective
from study.core import keys
from study.core.config import TrialConfig
from study.core.errors import StudyError
from study.optimize import claims
from study.optimize.confirmed import (
    BASE,
    base_key,
    held_out_verdict,
    inference_key,
    noise_floor,
    summarise,
    table_lines,
    verdict,
)
from study.optimize.recorder import Recorded, Recorder, run_claimed
from study.optimize.records import trial_config
from study.optimize.recovery import fail_stale_trials
from study.optimize.reference import is_base

FIRST_SEED = 1000  # fresh seeds: the study chose its best trials on their own seed (0 by default)

# (config, is_base) -> study.finetune.trial.TrialResult; tests pass stubs.
RunFn = Callable[[TrialConfig, bool], Any]


@dataclasses.dataclass(frozen=True)
class Run:
    confirms: int | str  # the main trial's number, or "base"
    seed: int
    like: int | None = None  # a base run: the trial whose decoding and prompt it answers with (None: the base trial's)

    @property
    def attrs(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {keys.CONFIRMS: self.confirms, keys.SEED: self.seed}
        if self.like is not None:
            attrs[keys.BASE_LIKE] = self.like
        return attrs


def top_trials(study: optuna.Study, top: int, by: str | None) -> list[FrozenTrial]:
    """The ``top`` best fine-tuned Pareto trials on ``by`` (default: the first objective)."""
    names = list(study.metric_names or [])
    if by is not None and by not in names:
        raise StudyError(f"--by {by}: not an objective of this study ({', '.join(names)})")
    index = names.index(by) if by else 0
    front = [t for t in study.best_trials if not is_base(t)]
    rest = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if not is_base(t) and t not in front]
    maximize = study.directions[index] == optuna.study.StudyDirection.MAXIMIZE
    ranked = sorted(front, key=lambda t: t.values[index], reverse=maximize)
    ranked += sorted(rest, key=lambda t: t.values[index], reverse=maximize)  # when the front is short
    if not ranked:
        raise StudyError(f"study '{study.study_name}' has no completed fine-tune to confirm yet")
    return ranked[:top]


def plan(trials: Sequence[FrozenTrial], seeds: int, base_trial_key: str | None = None) -> list[Run]:
    """The base model answering as each trial answers, then every trial with each fresh seed.

    A configuration's gain is measured against the base model answering with its decoding and
    prompt, so that a gain that is only its decoding is not credited to fine-tuning. The base is
    scored once per distinct setting (it is not trained, so it needs no seeds); a trial that answers
    as the base trial does (``base_trial_key``) shares the base trial's run.
    """
    bases, seen = [], {base_trial_key}
    for t in trials:
        key = inference_key(t)
        if key not in seen:
            seen.add(key)
            bases.append(Run(BASE, 0, t.number))
    if base_trial_key in {inference_key(t) for t in trials} or not bases:
        bases.insert(0, Run(BASE, 0))
    return bases + [Run(t.number, FIRST_SEED + i) for t in trials for i in range(seeds)]


def confirmation_study(study: optuna.Study, storage: Any) -> optuna.Study:
    names = list(study.metric_names or [])
    confirm = optuna.create_study(study_name=study.study_name + keys.CONFIRM_SUFFIX, storage=storage,
                                  directions=study.directions, load_if_exists=True)
    if confirm.metric_names is None and names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            confirm.set_metric_names(names)
    return confirm


def run_all(study: optuna.Study, confirm: optuna.Study, storage: Any, runs: Sequence[Run], run_fn: RunFn,
            objectives_: Sequence[Objective], say: Callable[[str], None] = print) -> int:
    """Run every planned run that no worker has done or is doing; returns how many this process ran."""
    fail_stale_trials(confirm, storage)  # the runs of a study.confirm that was killed: failed, so claimed again below
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    recorder = Recorder(confirm, objectives_, ())
    done = 0
    for run in runs:
        if claims.live(confirm, run.attrs):
            continue
        base = run.confirms == BASE

        def record(handle: Any, result: Any, run: Run = run, base: bool = base) -> Recorded:
            recorded = recorder.record(handle, result, None if base else _base_scores(confirm, run, by_number),
                                       itself=base)
            if getattr(result, "test_per_question", None):
                handle.set_user_attr(keys.TEST_PER_QUESTION, result.test_per_question)
            return recorded

        outcome = run_claimed(confirm, storage, run.attrs, _config(by_number, run),
                              lambda cfg, base=base: run_fn(cfg, base), record, say)
        if outcome is None:
            continue
        done += 1
        who = f"confirm {'base model' if base else f'trial {run.confirms}'} seed {run.seed}"
        values = outcome[1].values
        say(f"{who}: " + (", ".join(f"{o.metric}={v:.4g}" for o, v in zip(objectives_, values)) if values
                          else f"FAIL {outcome[1].reason}"))
    return done


def _base_scores(confirm: optuna.Study, run: Run, by_number: dict[int, FrozenTrial]) -> dict[str, list]:
    """The per-question scores of the base run a trial's run is compared with: the same decoding where there is one.

    As in the study: a trial's knowledge gain is its seen-probe scores minus this base run's, on the same probes.
    """
    bases = {base_key(by_number, t): t.user_attrs.get(keys.PER_QUESTION) or {}
             for t in confirm.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
             if t.user_attrs.get(keys.CONFIRMS) == BASE}
    base_trial = next((t for t in by_number.values() if is_base(t)), None)
    return (bases.get(inference_key(by_number[run.confirms]))
            or bases.get(inference_key(base_trial) if base_trial is not None else None) or {})


def _config(by_number: dict[int, FrozenTrial], run: Run) -> TrialConfig:
    """The configuration of a run: the trial's, with the run's seed and every validation question."""
    if run.confirms != BASE:
        source = by_number[run.confirms]
    elif run.like is not None:
        source = by_number[run.like]
    else:
        source = next(t for t in by_number.values() if is_base(t))
    cfg = trial_config(source)
    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, max_val_examples=None),
                               training=dataclasses.replace(cfg.training, seed=run.seed))


def confirm(study: optuna.Study, storage: Any, top: int, seeds: int, by: str | None = None, allow_hub: bool = False,
            show_progress: bool = False, say: Callable[[str], None] = print, run_fn: RunFn | None = None) -> list[str]:
    """Plan, run and summarise the confirmation of ``study``; returns the lines to print.

    ``run_fn`` defaults to the real fine-tune (base model and data loaded once); tests pass stubs.
    """
    chosen = top_trials(study, top, by)
    names = list(study.metric_names or [])
    objectives_ = [Objective(m, "maximize" if d == optuna.study.StudyDirection.MAXIMIZE else "minimize")
                   for m, d in zip(names, study.directions)]
    confirm_study = confirmation_study(study, storage)
    base_trial = next((t for t in study.get_trials(deepcopy=False) if is_base(t)), None)
    runs = plan(chosen, seeds, inference_key(base_trial) if base_trial is not None else None)
    if run_fn is None:
        run_fn = _fine_tune(_config({t.number: t for t in study.get_trials(deepcopy=False)},
                                    next(r for r in runs if r.confirms != BASE)),
                            allow_hub, show_progress)
    say(f"confirming trials {', '.join(str(t.number) for t in chosen)} with {seeds} fresh seeds each "
        f"and the base model: {len(runs)} runs in study '{confirm_study.study_name}'")
    run_all(study, confirm_study, storage, runs, run_fn, objectives_, say)
    metrics = names + [m for m in objectives.METRICS if m not in names]
    table = summarise(study, confirm_study, metrics)
    metric = by or names[0]
    maximize = objectives.METRICS.get(metric, "max") == "max"
    lines = table_lines(table, metric, maximize)
    floor = noise_floor(table, metric)
    if floor is not None:
        study.set_user_attr(keys.NOISE_FLOOR, {m: noise_floor(table, m) for m in names if noise_floor(table, m) is not None})
        lines.append(f"noise floor: one configuration's {metric} varies by {floor:.4f} (SD) from seed to seed")
    lines += [verdict(table, m, objectives.METRICS.get(m, "max") == "max") for m in names
              if any(m in t and t[m].get("gain") for t in table.values())]
    held_out = [held_out_verdict(table, m, objectives.METRICS.get(m, "max") == "max") for m in names]
    lines += [line for line in held_out if line]
    return lines


def _fine_tune(cfg: TrialConfig, allow_hub: bool, show_progress: bool) -> RunFn:
    """The real run function: one workbench for every run (model and data are fixed in a study)."""
    from study.finetune.fair_base import score_pairs
    from study.finetune.memory import freeze_loaded
    from study.finetune.fair_base import score_base_model
    from study.finetune.trial import run_trial
    from study.finetune.workbench import Workbench

    bench = Workbench.load(cfg, allow_hub=allow_hub)
    freeze_loaded()  # this process runs one fine-tune after another
    test = list(bench.splits.test)

    def run(cfg: TrialConfig, base: bool) -> Any:
        # Each run answers the untouched test split too: the claim against the base is made there,
        # on questions that took no part in choosing the configuration.
        scored: dict[str, Any] = {}

        def on_test(model: Any) -> None:
            if test:
                scored["test"] = score_pairs(model, bench, cfg, test).per_question

        if base:
            result = score_base_model(cfg, bench)
            on_test(bench.base.model)
        else:
            result = run_trial(cfg, bench, show_progress=show_progress, on_trained=on_test)
        result.test_per_question = scored.get("test")
        return result

    return run
