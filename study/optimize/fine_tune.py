"""The real trial function of a study's process: fine-tune a configuration, or score the base model.

:class:`study.optimize.loop.StudyRunner` calls it once per trial with the configuration and the
trial's pruning monitor; tests pass a stub with the same call instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import optuna

import objectives
from study import pruners
from study.core import keys
from study.core.config import TrialConfig
from study.core.errors import StudyError
from study.core.settings import StudySettings
from study.optimize.adapters import AdapterKeeper
from study.optimize.pruning import TrialPruning

if TYPE_CHECKING:
    from study.finetune.data import QAPair
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

    @classmethod
    def load(cls, study: optuna.Study, base_cfg: TrialConfig, val: Sequence["QAPair"], settings: StudySettings,
             allow_hub: bool, show_progress: bool, adapters: AdapterKeeper | None = None) -> "FineTune":
        """Load what every trial shares (base model, data, BERTScore encoder) once, and check the encoder."""
        from study.finetune.memory import freeze_loaded
        from study.finetune.workbench import Workbench

        bench = Workbench.load(base_cfg, allow_hub=allow_hub, bertscore=True)
        freeze_loaded()  # this process runs trial after trial: the loaded libraries stay out of every collection
        if bench.bertscorer is not None:  # study.run checked the text metrics; the encoder is loaded only now
            check = objectives.self_check([p.answer for p in val], base_cfg.data.language, bench.bertscorer)
            if check.failure():
                raise StudyError(check.failure())
        encoder = bench.bertscorer.name if bench.bertscorer else None
        if study.user_attrs.get(keys.BERTSCORE_ENCODER) != encoder:
            study.set_user_attr(keys.BERTSCORE_ENCODER, encoder)
        return cls(bench, settings, show_progress, adapters)

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
