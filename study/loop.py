"""The study loop: ask Optuna for a trial, run it, record it, tell Optuna how it ended.

Uses Optuna's ask-and-tell interface so that pruning (through :mod:`study.pruning`),
failures and Ctrl-C are handled in one visible place.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Sequence

import optuna
from optuna.trial import TrialState

from objectives import Objective
from search_spaces import SearchSpace
from study.config import StudySettings, TrialConfig
from study.data import Splits
from study.errors import StudyError
from study.pruning import TrialPruning, pruning_study
from study.records import record_config, record_result
from study.storage import create_or_resume


@dataclass
class StudyRunner:
    space: SearchSpace
    settings: StudySettings
    objectives: Sequence[Objective]
    storage: Any
    study_name: str
    sampler: optuna.samplers.BaseSampler
    splits: Splits
    base_cfg: TrialConfig
    allow_hub: bool = False
    show_progress: bool = True

    def run(self, n_trials: int) -> None:
        from tqdm.auto import tqdm

        from study.trial import Workbench

        self.study = create_or_resume(
            self.storage,
            self.study_name,
            self.objectives,
            self.sampler,
            attrs={
                "space": self.space.name,
                "pruner": self.settings.pruner,
                "pruning_metric": self.settings.pruning_metric,
                "data_source": self.splits.source,
                "n_train": len(self.splits.train),
                "n_val": len(self.splits.val),
                "n_test": len(self.splits.test),
            },
        )
        self.pruning = None
        if self.settings.pruner != "none":
            self.pruning, self.pruning_objective = pruning_study(
                self.study, self.storage, self.settings.pruner, self.settings.pruning_metric
            )
        self.bench = Workbench.load(self.base_cfg, allow_hub=self.allow_hub, bertscore=self._needs_bertscore())
        self.study.set_user_attr("bertscore_encoder", self.bench.bertscorer.name if self.bench.bertscorer else None)
        bar = tqdm(total=n_trials, desc="trials", unit="trial", disable=not self.show_progress, position=0)
        try:
            for _ in range(n_trials):
                line = self._one_trial()
                bar.write(line) if self.show_progress else print(line, flush=True)
                bar.update(1)
        finally:
            bar.close()

    def _needs_bertscore(self) -> bool:
        return True  # reported on every trial; the encoder loads once in ~1 s

    def _one_trial(self) -> str:
        from study.trial import DivergedError, run_trial

        trial = self.study.ask()
        cfg = self.space.suggest(trial)
        record_config(trial, cfg)
        monitor = TrialPruning(trial, self.pruning, self.pruning_objective) if self.pruning else None
        wilcoxon = self.settings.pruner == "wilcoxon"
        start = time.perf_counter()
        try:
            result = run_trial(
                cfg,
                self.bench,
                monitor,
                eval_chunks=self.settings.eval_chunks if wilcoxon else 1,
                full_eval_every_epoch=self.settings.pruning_metric != "eval_loss",
                show_progress=self.show_progress,
            )
        except DivergedError as exc:
            return self._end(trial, monitor, TrialState.PRUNED, start, reason=f"diverged: {exc}")
        except KeyboardInterrupt:
            self._end(trial, monitor, TrialState.FAIL, start, reason="interrupted (Ctrl-C)")
            raise
        except StudyError:
            self._end(trial, monitor, TrialState.FAIL, start, reason="configuration error")
            raise
        except Exception as exc:  # one bad trial must not end the study; the reason stays on the trial
            return self._end(trial, monitor, TrialState.FAIL, start, reason=f"{type(exc).__name__}: {exc}")
        record_result(trial, result.metrics, result.history, self.bench.splits.val, result.predictions,
                      self.settings.sample_answers)
        if result.pruned_at is not None:
            trial.set_user_attr("pruned_at", result.pruned_at)
            return self._end(trial, monitor, TrialState.PRUNED, start, step=result.pruned_at)
        values = [result.metrics[o.metric] for o in self.objectives]
        if not all(math.isfinite(v) for v in values):
            return self._end(trial, monitor, TrialState.FAIL, start, reason=f"non-finite objective {values}")
        self.study.tell(trial, values)
        if monitor:
            monitor.complete(result.metrics.get(self.settings.pruning_metric, math.nan))
        shown = ", ".join(f"{o.metric}={v:.4g}" for o, v in zip(self.objectives, values))
        return f"trial {trial.number:>3} COMPLETE  {shown}  ({time.perf_counter() - start:.0f} s)"

    def _end(self, trial: Any, monitor: TrialPruning | None, state: TrialState, start: float,
             reason: str | None = None, step: int | None = None) -> str:
        if reason:
            trial.set_user_attr("fail_reason", reason)
        self.study.tell(trial, state=state)
        if monitor:
            monitor.pruned() if state == TrialState.PRUNED else monitor.failed()
        detail = f"at step {step}" if step is not None else (reason or "")
        return f"trial {trial.number:>3} {state.name:<8}  {detail}  ({time.perf_counter() - start:.0f} s)"

    def summary(self, seconds: float, storage_url: str) -> str:
        trials = self.study.get_trials(deepcopy=False)
        counts = {s.name: sum(t.state == s for t in trials) for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
        front = self.study.best_trials if counts["COMPLETE"] else []
        lines = [
            f"study '{self.study_name}': {len(trials)} trials "
            f"({', '.join(f'{n} {k.lower()}' for k, n in counts.items())}) in {seconds:.0f} s this run",
            f"Pareto front: trials {', '.join(str(t.number) for t in front) or '-'}",
            f"dashboard:  optuna-dashboard {storage_url}" if storage_url.startswith("sqlite") else f"storage: {storage_url}",
            f"best config: python -m study.export --study-name {self.study_name}"
            + ("" if storage_url.endswith(f"/{self.study_name}.db") else f" --storage {storage_url}"),
        ]
        return "\n".join(lines)
