"""Real studies for ``benchmarks.budget``: the project's own loop, then the test split of the chosen configurations.

Each study runs N trials with the rule off (``study.stop`` None: the loop is the study's, in-memory
storage), the space's objectives, sampler and pruner otherwise as they are. Its finished trials are
replayed through each rule afterwards (:mod:`benchmarks._budget_eval`). The two configurations a
rule's comparison needs (chosen at the stop, chosen after N) are trained again with their own seed
and answer the test split, which took no part in choosing them, as ``study.confirm`` does.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass, field, replace
from typing import Any

from benchmarks import _common as common
from study.optimize.stop_rules import Finished


@dataclass
class RealStudy:
    """One finished study: its trials as the rules see them, their seconds and configurations, and a test scorer."""

    space: str
    seed: int
    metric: str
    trials: list[Finished]
    seconds: list[float]
    configs: dict[int, Any]  # trial number -> TrialConfig
    bench: Any
    cache: str | None = None  # a JSON file the test scores are kept in (``--keep``): a second comparison re-trains none
    front: dict[str, bool] = field(default_factory=dict)  # the objectives judge: front judges (metric -> maximize)
    _test: dict[int, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.cache and os.path.exists(self.cache):
            with open(self.cache) as f:
                self._test = {int(number): scores for number, scores in json.load(f).items()}

    def test_scores(self, index: int) -> list[float]:
        """The first objective's per-question scores of trial ``index``'s configuration, re-trained, on the test split."""
        from study.finetune.fair_base import score_pairs
        from study.finetune.trial import run_trial

        number = self.trials[index].number
        if number not in self._test:
            cfg, scored = self.configs[number], {}
            test = list(self.bench.splits.test)

            def on_trained(model: Any) -> None:
                scored["test"] = score_pairs(model, self.bench, cfg, test).per_question

            with contextlib.redirect_stdout(sys.stderr):
                run_trial(cfg, self.bench, on_trained=on_trained)
            self._test[number] = list(scored["test"][self.metric])
            if self.cache:
                with open(self.cache, "w") as f:
                    json.dump(self._test, f)
        return self._test[number]


def quick_space(space: Any) -> Any:
    """Smoke-sized trials on top of a space: a few pairs and questions, short answers, one optimiser step an epoch."""
    space = space.with_fixed(**{
        "data.max_train_examples": 2, "data.max_val_examples": 4, "data.max_seq_length": 96,
        "training.batch_size": 2, "training.epochs": 1, "decoding.max_new_tokens": 4, "decoding.num_beams": 1,
    })
    return replace(space, settings=replace(space.settings, check_questions=0, check_max_new_tokens=0, pruner="none"))


def run_study(space_name: str, n_trials: int, seed: int, quick: bool, keep: str | None = None,
              model: str | None = None) -> RealStudy:
    """One seeded study of ``n_trials`` with the rule off; the trials it finished, in the order they finished.

    ``keep``: a folder where the study lives as ``<space>-<seed>.db`` (SQLite): a study interrupted
    there resumes, and one that holds its ``n_trials`` already is read, not run again; the test
    scores of its re-trained configurations are kept beside it (``<space>-<seed>-test.json``).
    Without it the study is in memory. ``model`` replaces the space's ``model.name``.
    """
    import optuna

    from objectives import parse_objectives
    from search_spaces import Choice, load_space
    from study.finetune.data import load_splits
    from study.optimize import stopping
    from study.optimize.loop import StudyRunner
    from study.optimize.records import trial_config
    from study.optimize.samplers import make_sampler
    from study.optimize.storage import counted_trials, open_storage

    space = load_space(space_name)
    space = quick_space(space) if quick else space
    space = space.with_fixed(**{"model.name": model}) if model else space
    settings = replace(space.settings, stop=None, n_trials=n_trials, sample_answers=0, confirm_top=0)
    base_cfg = space.config({n: d.values[0] if isinstance(d, Choice) else d.low for n, d in space.dimensions.items()})
    objectives_ = parse_objectives(settings.objectives)
    if keep is None:
        storage: Any = optuna.storages.InMemoryStorage()
    else:
        os.makedirs(keep, exist_ok=True)
        storage = open_storage(f"sqlite:///{os.path.join(keep, f'{space_name}-{seed}.db')}")
    runner = StudyRunner(space=space, settings=settings, objectives=objectives_,
                         storage=storage, study_name=f"budget-{space_name}-{seed}",
                         sampler=make_sampler(settings.sampler, seed), splits=load_splits(base_cfg.data),
                         base_cfg=base_cfg, show_progress=False)
    held = counted_trials(runner.open())
    common.progress(f"budget: {space_name}, seed {seed}: {n_trials - held} of {n_trials} trials with the rule off ...")
    with contextlib.redirect_stdout(sys.stderr):  # the loop's trial lines are progress
        runner.run(n_trials - held)
    metric = objectives_[0].metric
    trials = stopping.finished_trials(runner.study, metric)
    by_number = {t.number: t for t in runner.study.get_trials(deepcopy=False)}
    seconds = trial_seconds([by_number[t.number] for t in trials])
    configs = {t.number: trial_config(by_number[t.number]) for t in trials}
    # the runner's workbench (model, data and encoder loaded once) trains the chosen configurations again
    cache = os.path.join(keep, f"{space_name}-{seed}-test.json") if keep else None
    front = stopping.judged_front(trials, [(o.metric, o.direction == "maximize") for o in objectives_])
    return RealStudy(space_name, seed, metric, trials, seconds, configs, runner._trial_fn.bench, cache, front=front)



def trial_seconds(trials: list[Any]) -> list[float]:
    """Each trial's cost: its process's CPU seconds where every trial has them (studies from 2026-12-07 on),
    which other work on the machine does not inflate; else its wall-clock seconds."""
    from study.core import keys

    if all(keys.CPU_SECONDS in t.user_attrs for t in trials):
        return [float(t.user_attrs[keys.CPU_SECONDS]) for t in trials]
    return [(t.datetime_complete - t.datetime_start).total_seconds() for t in trials]
