"""The real trial function of a study's process: fine-tune a configuration, or score the base model.

:class:`study.optimize.loop.StudyRunner` calls it once per trial with the configuration and the
trial's pruning monitor; tests pass a stub with the same call instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from study import pruners
from study.core.config import TrialConfig
from study.core.settings import StudySettings
from study.optimize.adapters import AdapterKeeper
from study.optimize.pruning import TrialPruning

if TYPE_CHECKING:
    from study.finetune.trial import TrialResult
    from study.finetune.workbench import Workbench


class FineTune:
    """The trial function of a process: fine-tunes a configuration, or scores the base model."""

    def __init__(self, bench: "Workbench", settings: StudySettings, show_progress: bool,
                 adapters: AdapterKeeper | None = None) -> None:
        self.bench, self.settings, self.show_progress = bench, settings, show_progress
        self.adapters = adapters  # keeps each trained adapter until the loop knows whether it is a Pareto trial
        from study.finetune.fair_base import BaseAnswers

        self.base_answers = BaseAnswers(bench)  # the base model with each trial's decoding, for fair gains

    def __call__(self, cfg: TrialConfig, monitor: TrialPruning | None) -> "TrialResult":
        from study.finetune.trial import run_trial

        per_question = pruners.choose(self.settings.pruner).per_question
        if self.adapters is not None:
            self.adapters.drop()  # the last trial's, if it was pruned or failed after training
        result = run_trial(
            cfg,
            self.bench,
            monitor,
            eval_chunks=self.settings.eval_chunks if per_question else 1,
            full_eval_every_check=self.settings.pruning_metric != "eval_loss",
            check_questions=self.settings.check_questions,
            check_max_new_tokens=self.settings.check_max_new_tokens,
            checks_per_epoch=self.settings.checks_per_epoch,
            show_progress=self.show_progress,
            on_trained=self.adapters.keep if self.adapters is not None else None,
        )
        if result.pruned_at is None:  # a finished trial's gains compare it with the base answering as it does
            result.base_per_question = self.base_answers(cfg).per_question
        return result

    def score_base(self, cfg: TrialConfig) -> "TrialResult":
        from study.finetune.fair_base import score_base_model

        return score_base_model(cfg, self.bench)
