"""The study loop: ask Optuna for a trial, run it, record it, tell Optuna how it ended.

Uses Optuna's ask-and-tell interface so that pruning (through :mod:`study.optimize.pruning`),
failures, crashed workers (through :mod:`study.optimize.recovery`) and Ctrl-C are handled in one
visible place. Any number of these loops, in processes on any number of machines, may work
on one study in a shared storage: each ask hands out a different trial.
"""

from __future__ import annotations

import math
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import optuna
from optuna.trial import TrialState

from objectives import Objective
from search_spaces import SearchSpace
from study import pruners
from study.core import keys
from study.core.config import TrialConfig
from study.core.errors import DivergedError, StudyError
from study.core.keys import PRUNING_SUFFIX
from study.core.settings import StudySettings
from study.finetune.data import Splits
from study.finetune.memory import release_memory
from study.optimize import dashboard, reference, stopping
from study.optimize.adapters import AdapterKeeper
from study.optimize.fine_tune import FineTune
from study.optimize.pruning import TrialPruning, pruning_study
from study.optimize.recorder import Recorder
from study.optimize.records import record_config
from study.optimize.recovery import Heartbeat, fail_stale_trials
from study.optimize.storage import check_same_data, counted_trials, create_or_resume, existing_study
from study.optimize.summary import summary

# (config, pruning monitor or None) -> study.finetune.trial.TrialResult; tests pass stubs.
TrialFn = Callable[[TrialConfig, "TrialPruning | None"], Any]
MAX_CONSECUTIVE_FAILURES = 5
TRACEBACK_CHARS = 4000  # the end of a failed trial's traceback, kept in its user attribute fail_traceback


class TooManyFailures(RuntimeError):
    """Several trials in a row failed: the cause is likely the machine or the data, not a configuration."""


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
    worker: str = ""  # prefix of each printed line when several workers share one terminal
    ran: dict[str, int] = field(default_factory=dict)  # trials this process ended, by state name
    artifact_dir: Path | None = None  # predictions of every trial go there (optuna-dashboard --artifact-dir)
    save_adapters: bool = False  # and the adapters of Pareto trials (study.optimize.adapters)
    #: what runs a trial; None: the real fine-tune, with the base model and data loaded at run(). Tests pass stubs.
    trial_fn: TrialFn | None = None
    attrs: dict[str, Any] = field(default_factory=dict)  # more study attributes (personal data let through)
    # What open() and run() set, declared here so that a reader sees the runner's whole state.
    study: optuna.Study = field(init=False)
    pruning_study: optuna.Study | None = field(init=False, default=None)  # None: no pruner
    pruning_objective: Objective | None = field(init=False, default=None)
    _store: Any = field(init=False, default=None)  # the artifact store, or None
    _recorder: Recorder = field(init=False)
    _figures: dashboard.FigureRefresher = field(init=False)
    _bar: Any = field(init=False, default=None)  # the progress bar of run()
    _trial_fn: TrialFn | None = field(init=False, default=None)  # trial_fn, or the real fine-tune once loaded
    _base: reference.BaseTrial = field(init=False)
    _adapters: AdapterKeeper | None = field(init=False, default=None)

    def open(self) -> optuna.Study:
        """Create the study and its pruning study, or load them to resume; loads no model."""
        keep = {keys.CHECKS_PER_EPOCH: "--checks-per-epoch",  # the pruner's steps only compare when all check as often
                keys.LANGUAGE: "--set data.language="}  # the metrics read the answers in it: scores compare in one only
        pruner = pruners.choose(self.settings.pruner)
        summary = existing_study(self.storage, self.study_name)
        if summary is not None:
            check_same_data(self.study_name, summary.user_attrs, self.splits)
        if existing_study(self.storage, self.study_name + PRUNING_SUFFIX) is not None:
            keep[keys.PRUNING_METRIC] = "--pruning-metric"  # its pruning study holds values of that metric
        self.study = create_or_resume(
            self.storage,
            self.study_name,
            self.objectives,
            self.sampler,
            attrs={
                keys.SPACE: self.space.name,
                keys.PRUNER: pruner.name,
                keys.PRUNER_SETTINGS: pruner.spec.to_dict(),
                keys.PRUNING_STEP: pruner.unit,
                keys.PRUNING_METRIC: self.settings.pruning_metric,
                keys.CHECKS_PER_EPOCH: self.settings.checks_per_epoch,
                keys.DATA_SOURCE: self.splits.source,
                keys.DATA_FINGERPRINT: self.splits.fingerprint(),
                keys.LANGUAGE: self.base_cfg.data.language,
                "n_train": len(self.splits.train),
                "n_val": len(self.splits.val),
                "n_test": len(self.splits.test),
                **self.attrs,
            },
            unchangeable=keep,
        )
        self._store = dashboard.artifact_store(self.artifact_dir)
        self._recorder = Recorder(self.study, self.objectives, self.splits.val, self.settings.sample_answers, self._store)
        self._figures = dashboard.FigureRefresher(self.storage, self.study_name)
        self.pruning_study = None
        if pruner.prunes:
            self.pruning_study, self.pruning_objective = pruning_study(
                self.study, self.storage, self.settings.pruner, self.settings.pruning_metric
            )
        return self.study

    def run(self, n_trials: int, total_trials: int | None = None,
            max_consecutive_failures: int = MAX_CONSECUTIVE_FAILURES) -> None:
        """Run up to ``n_trials`` trials, fewer once the study holds ``total_trials`` (all workers together).

        Raises :class:`TooManyFailures` after ``max_consecutive_failures`` failed trials in a row.
        """
        # Optuna expects heartbeats with Study.optimize only; study.optimize.recovery.Heartbeat records them
        # here, for the trial and its pruning trial alike. Its warning is silenced for this run only.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
            self._run_trials(n_trials, total_trials, max_consecutive_failures)

    def _run_trials(self, n_trials: int, total_trials: int | None, max_consecutive_failures: int) -> None:
        from tqdm.auto import tqdm

        self.open()
        trial_fn = self._trial_fn = self.trial_fn if self.trial_fn is not None else self._load_trial_fn()
        self._study_notes(self.study.user_attrs.get(keys.BERTSCORE_ENCODER))
        failed_in_a_row: list[tuple[int, str]] = []  # (trial number, reason)
        bar = tqdm(total=n_trials, desc="trials", unit="trial", disable=not self.show_progress, position=0)
        self._bar = bar
        try:
            self._base = reference.BaseTrial(self.study, self.base_cfg, set(self.space.dimensions), trial_fn)
            self._base.score(self.storage, self._recorder, self._say, self._notes)
            for i in range(n_trials):
                for line in fail_stale_trials(self.study, self.storage):
                    self._say(line)
                if self._stopped(fresh=i == 0):
                    break
                if getattr(self.sampler, "exhausted", False):
                    self._say("every point of the grid has run: this worker stops")
                    break
                held = counted_trials(self.study) if total_trials is not None else 0
                if total_trials is not None and held >= total_trials:
                    self._say(f"the study holds {held} trials (--total-trials {total_trials}): this worker stops")
                    break
                number, state, reason = self._one_trial(trial_fn)
                self.ran[state.name] = self.ran.get(state.name, 0) + 1
                bar.update(1)
                failed_in_a_row = failed_in_a_row + [(number, reason)] if state == TrialState.FAIL else []
                if len(failed_in_a_row) >= max_consecutive_failures:
                    raise TooManyFailures(
                        f"{len(failed_in_a_row)} trials in a row failed (trials "
                        f"{', '.join(str(n) for n, _ in failed_in_a_row)}; the last: {reason}); "
                        "each reason is in the trial's fail_reason. Fix the cause and resume with the same command"
                    )
        finally:
            bar.close()
            self._figures.maybe_refresh(force=True)  # the figures show every trial this worker ended

    def _stopped(self, fresh: bool) -> bool:
        """The study's stopping rule (``study.stop``): whether this worker stops before another trial."""
        rule = self.settings.stop
        objectives = [(o.metric, o.direction == "maximize") for o in self.objectives]
        decision = rule and stopping.check(self.study, rule, objectives, fresh)
        if decision:
            self._say(decision.line())
            self._study_notes(self.study.user_attrs.get(keys.BERTSCORE_ENCODER))  # the note says why it stopped
        return bool(decision)

    def _say(self, line: str) -> None:
        line = self.worker + line
        if self.show_progress:
            self._bar.write(line)  # above the progress bar, not through it
        else:
            print(line, flush=True)

    def _load_trial_fn(self) -> TrialFn:
        """The real fine-tune, with what every trial shares loaded once (the base model, data, encoder)."""
        if self.save_adapters and self._store is not None:
            self._adapters = AdapterKeeper(self._store)
        return FineTune.load(self.study, self.base_cfg, self.splits.val, self.settings, self.allow_hub,
                             self.show_progress, self._adapters)

    def _one_trial(self, trial_fn: TrialFn) -> tuple[int, TrialState, str]:
        """Run one trial to its end; returns its number, final state and the reason of a failure."""
        trial = self.study.ask()
        with Heartbeat(self.storage, trial):
            try:
                return self._run(trial, trial_fn)
            except optuna.exceptions.UpdateFinishedTrialError:
                # Its heartbeat stopped for longer than the grace period (database unreachable,
                # machine suspended) and another worker failed the trial and queued it again.
                self._say(f"trial {trial.number:>3} not stored: another worker gave it up (no heartbeat); "
                          "it runs again")
                return trial.number, TrialState.FAIL, "heartbeat lost"

    def _run(self, trial: optuna.Trial, trial_fn: TrialFn) -> tuple[int, TrialState, str]:
        start, cpu = time.perf_counter(), time.process_time()
        monitor = None
        try:
            cfg = self.space.suggest(trial)
            record_config(trial, cfg)
            monitor = TrialPruning(trial, self.pruning_study, self.pruning_objective) if self.pruning_study else None
            result = trial_fn(cfg, monitor)
            trial.set_user_attr(keys.CPU_SECONDS, time.process_time() - cpu)
        except KeyboardInterrupt:
            self._end(trial, monitor, TrialState.FAIL, start, reason="interrupted (Ctrl-C)")
            raise
        except StudyError as exc:  # bad input, or a judge endpoint that failed: the study stops, resumable
            self._end(trial, monitor, TrialState.FAIL, start, reason=f"configuration error: {exc.message}")
            raise
        except Exception as exc:  # one bad trial must not end the study; the reason stays on the trial
            if _diverged(exc):
                failure = TrialState.PRUNED, f"diverged: {exc}"
            else:
                trial.set_user_attr(keys.FAIL_TRACEBACK, traceback.format_exc()[-TRACEBACK_CHARS:])
                failure = TrialState.FAIL, "out of memory" if _out_of_memory(exc) else f"{type(exc).__name__}: {exc}"
        else:
            return self._record(trial, monitor, result, start)
        # Out of the except block: until then its traceback holds the failed trial's frames, and so
        # its adapter and activations, which release_memory could not give back (CUDA cache included).
        release_memory()
        state, reason = failure
        return self._end(trial, monitor, state, start, reason=reason)

    def _record(self, trial: optuna.Trial, monitor: TrialPruning | None, result: Any,
                start: float) -> tuple[int, TrialState, str]:
        recorded = self._recorder.record(trial, result, self._base.per_question())
        if recorded.warning:
            self._say(f"trial {trial.number:>3} warning: {recorded.warning} (its scores are stored)")
        if result.pruned_at is not None:
            trial.set_user_attr(keys.PRUNED_AT, result.pruned_at)
            where = pruners.choose(self.settings.pruner).unit
            return self._end(trial, monitor, TrialState.PRUNED, start, detail=f"at {where} {result.pruned_at:g}")
        values = recorded.values
        if values is None:
            return self._end(trial, monitor, TrialState.FAIL, start, reason=recorded.reason)
        if self._adapters is not None:  # before tell: a finished trial's artifacts cannot change
            warning = self._adapters.upload_if_on_front(self.study, trial, values)
            if warning:
                self._say(f"trial {trial.number:>3} warning: {warning} (its scores are stored)")
        self.study.tell(trial, values)
        if monitor:
            monitor.complete(result.metrics.get(self.settings.pruning_metric, math.nan))
        self._notes(trial._trial_id, monitor)
        shown = ", ".join(f"{o.metric}={v:.4g}" for o, v in zip(self.objectives, values))
        seconds = time.perf_counter() - start
        self._say(f"trial {trial.number:>3} COMPLETE  {shown}  ({seconds:.0f} s){_retry_note(trial)}")
        return trial.number, TrialState.COMPLETE, ""

    def _end(self, trial: Any, monitor: TrialPruning | None, state: TrialState, start: float,
             reason: str | None = None, detail: str | None = None) -> tuple[int, TrialState, str]:
        if reason:
            trial.set_user_attr(keys.FAIL_REASON, reason)
        self.study.tell(trial, state=state)
        if monitor:
            monitor.pruned() if state == TrialState.PRUNED else monitor.failed()
        self._notes(trial._trial_id, monitor)
        detail = detail or reason or ""
        seconds = time.perf_counter() - start
        self._say(f"trial {trial.number:>3} {state.name:<8}  {detail}  ({seconds:.0f} s){_retry_note(trial)}")
        return trial.number, state, reason or ""

    def _notes(self, trial_id: int, monitor: TrialPruning | None = None) -> None:
        """The finished trial's note (and its pruning trial's), then the study's figures if their turn has come."""
        frozen = self.study._storage.get_trial(trial_id)
        names = [o.metric for o in self.objectives]
        dashboard.write_note(self.study, trial_id, dashboard.trial_note(frozen, names, self.splits.val,
                                                                        self.study_name))
        if monitor is not None:
            dashboard.write_note(monitor.study, monitor.pruning_trial._trial_id,
                                 f"Stands for trial {frozen.number} of study `{self.study_name}`: open it there "
                                 f"for its answers and scores ({frozen.state.name}).")
        self._figures.maybe_refresh()

    def _study_notes(self, encoder: str | None) -> None:
        note = dashboard.study_note(self.study, self.base_cfg.model.name, encoder)
        implied = [f"`{o.metric}` is {o.direction}d, its known direction: the objective named none (`{o.metric}`, "
                   f"not `{o}`)" for o in self.objectives if o.implied]
        if implied:
            note += "\n\n**Directions.** " + "; ".join(implied) + "."
        dashboard.write_note(self.study, None, note)
        if self.pruning_study is not None:
            dashboard.write_note(self.pruning_study, None,
                                 dashboard.pruning_study_note(self.study_name, self.settings.pruning_metric))

    def summary(self, seconds: float, storage_url: str) -> str:
        return summary(self.study, self.study_name, seconds, storage_url, self.artifact_dir)


def _retry_note(trial: optuna.Trial) -> str:
    retry = trial.user_attrs.get(keys.RETRY_OF)
    return f"  (retry of trial {retry})" if retry is not None else ""


def _diverged(exc: BaseException) -> bool:
    return isinstance(exc, DivergedError)


def _out_of_memory(exc: BaseException) -> bool:
    """CUDA (or MPS) ran out of memory: ``torch.OutOfMemoryError``; Python's MemoryError for host memory."""
    torch = sys.modules.get("torch")  # a trial that raised it has imported torch
    oom = getattr(torch, "OutOfMemoryError", None) or getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    return isinstance(exc, MemoryError) or (oom is not None and isinstance(exc, oom))
