"""Pruning for single- and multi-objective studies.

Optuna refuses ``Trial.report`` in multi-objective studies. Here every trial has a *pruning
trial* in a single-objective *pruning study* (``<study>.pruning``, same storage) whose
direction is that of the pruning metric. The pruning trial receives the intermediate values,
and Optuna's own pruners (:mod:`study.pruners`: median, hyperband, wilcoxon, ...) decide on it
exactly as they would in a single-objective study. The intermediate values live there, where the dashboard
(study ``<name>.pruning``) and the reports plot them, pruned trials included; the main trial
keeps its per-check metrics in the ``history`` user attribute. A step is what the pruner's
registry entry says: a check of the validation split (with ``checks_per_epoch: k`` step ``j``
falls after ``j / k`` epochs, so trials with different batch sizes report comparable steps),
or a question for a per-question pruner (``after_chunk``).

They are deliberately not copied onto the main trial: Optuna's TPE sampler ranks pruned
trials by their intermediate values using ``study.direction``, which raises in a
multi-objective study.
"""

from __future__ import annotations

import math
from typing import Any

import optuna

from objectives import Objective, objective_for
from study import pruners
from study.core import keys
from study.core.errors import StudyError
from study.core.keys import PRUNING_SUFFIX
from study.core.pruner_spec import PrunerSpec
from study.finetune.evaluation import Evaluation


class TrialPruning:
    """The pruning side of one trial: reports intermediate values and asks the pruner.

    Implements :class:`study.finetune.trial.TrialMonitor`.
    """

    def __init__(self, trial: optuna.Trial, pruning_study: optuna.Study, metric: Objective) -> None:
        self.trial = trial
        self.metric = metric
        self.study = pruning_study
        self.pruning_trial = pruning_study.ask()
        self.pruning_trial.set_user_attr(keys.MAIN_TRIAL, trial.number)
        trial.set_user_attr(keys.PRUNING_TRIAL, self.pruning_trial.number)
        self.last_step: int | None = None
        self.last_value: float | None = None

    def _report(self, value: float, step: int) -> bool:
        if not math.isfinite(value):
            return False
        self.pruning_trial.report(value, step)
        self.last_step, self.last_value = step, value
        return self.pruning_trial.should_prune()

    def after_check(self, check: int, evaluation: Evaluation) -> bool:
        return self._report(evaluation.metrics[self.metric.metric], check)

    def after_chunk(self, first_question: int, evaluation: Evaluation) -> bool:
        scores = evaluation.per_question.get(self.metric.metric)
        if scores is None:
            raise StudyError(
                f"a per-question pruner needs a per-question metric, not '{self.metric.metric}' "
                "(use rougeL, rouge1, rouge2, token_f1 or bertscore_f1)"
            )
        prune = False
        for offset, score in enumerate(scores):
            prune = self._report(score, first_question + offset) or prune
        return prune

    def complete(self, value: float) -> None:
        self.study.tell(self.pruning_trial, value if math.isfinite(value) else None,
                        state=None if math.isfinite(value) else optuna.trial.TrialState.FAIL)

    def pruned(self) -> None:
        self.study.tell(self.pruning_trial, state=optuna.trial.TrialState.PRUNED)

    def failed(self) -> None:
        self.study.tell(self.pruning_trial, state=optuna.trial.TrialState.FAIL)


def pruning_study(study: optuna.Study, storage: Any, pruner: PrunerSpec | str,
                  metric: str) -> tuple[optuna.Study, Objective]:
    """The single-objective pruning study that ``pruner`` works on (created or loaded)."""
    objective = objective_for(metric)
    pruning = optuna.create_study(
        study_name=study.study_name + PRUNING_SUFFIX,
        storage=storage,
        direction=objective.direction,
        pruner=pruners.build(pruner),
        load_if_exists=True,
    )
    return pruning, objective
