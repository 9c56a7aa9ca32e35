"""One way to record a scored model: the base model, a fine-tune and a confirmation run alike.

Recording is: the knowledge gain against the base's probe scores, the metrics, history and
answers, the per-question scores with their intervals and the gains over the base model, the
predictions artifact, and the objective values (or why there are none). Claimed runs (the base
model, each confirmation run: :mod:`study.optimize.claims`) also share claim → heartbeat →
score → record → finish, in :func:`run_claimed`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from optuna.trial import TrialState

from objectives import Objective, knowledge_gain
from study.core import keys
from study.core.config import TrialConfig
from study.core.errors import StudyError
from study.optimize import claims, dashboard
from study.optimize.records import record_config, record_result, record_scores
from study.optimize.recovery import Heartbeat

if TYPE_CHECKING:
    import optuna

    from study.finetune.data import QAPair

Say = Callable[[str], None]


@dataclass(frozen=True)
class Recorded:
    """What recording found: the objective values, or None and the reason; a warning to print (or None)."""

    values: list[float] | None
    reason: str = ""
    warning: str | None = None


@dataclass(frozen=True)
class Recorder:
    """Writes a scored model's results into its trial (an ``optuna.Trial`` or a claimed ``StoredTrial``).

    Args:
        study: the study the trial belongs to (its artifacts are uploaded there).
        objectives: the objectives whose values and gains are recorded.
        questions: the questions the answers are to (the validation split), for samples and artifacts.
        sample_answers: how many answers beside their references the trial keeps as samples.
        store: the artifact store for the predictions, or None.
    """

    study: "optuna.Study"
    objectives: Sequence[Objective]
    questions: Sequence["QAPair"]
    sample_answers: int = 0
    store: Any = None

    def record(self, trial: Any, result: Any, base: Mapping[str, Sequence[Any]] | None,
               itself: bool = False) -> Recorded:
        """Record ``result`` (a ``TrialResult``) on ``trial``, with gains over ``base``'s per-question scores.

        ``itself``: the result is the base model's own (its knowledge gain is 0 by definition, against its
        own probe scores; it has no gains). A result with ``base_per_question`` (the base answering with the
        trial's decoding) has its gains measured against that, the gains over ``base`` kept beside them.
        """
        per_question = dict(getattr(result, "per_question", None) or {})
        if itself:
            base = per_question
        gained, items = knowledge_gain(per_question, base or {})  # probes against the base model's
        result.metrics.update(gained)
        per_question.update(items)
        result.per_question = per_question
        names = [o.metric for o in self.objectives]
        history, predictions = getattr(result, "history", None) or [], getattr(result, "predictions", None) or []
        record_result(trial, result.metrics, history, self.questions, predictions, self.sample_answers)
        record_scores(trial, per_question, None if itself else base, names,
                      same_decoding=getattr(result, "base_per_question", None))
        warning = dashboard.upload_predictions(self.store, self.study, trial, self.questions, predictions, per_question)
        return Recorded(*self.values(result), warning=warning)

    def values(self, result: Any) -> tuple[list[float] | None, str]:
        """The objective values of ``result``, or None and why (a metric missing, or not finite)."""
        missing = [o.metric for o in self.objectives if o.metric not in result.metrics]
        if missing:
            why = " (it needs the base model's probe scores, not stored yet)" if "knowledge_gain" in missing[0] else ""
            return None, f"no value of {', '.join(missing)}{why}"
        values = [float(result.metrics[o.metric]) for o in self.objectives]
        if not all(math.isfinite(v) for v in values):
            return None, f"non-finite objective {values}"
        return values, ""


def run_claimed(study: "optuna.Study", storage: Any, attrs: Mapping[str, Any], cfg: TrialConfig,
                work: Callable[[TrialConfig], Any], record: Callable[[Any, Any], Recorded],
                say: Say) -> tuple[Any, Recorded] | None:
    """Claim the run with ``attrs``, keep its heartbeat, do ``work(cfg)``, ``record`` it, and finish it.

    Returns the claimed trial and what was recorded, or None where another worker runs it. A run
    that raises ends FAIL with the reason (Ctrl-C too, so that the next worker redoes it at once
    instead of waiting for its heartbeat to go stale) and is tried again by the next run.
    """
    handle = claims.claim(study, attrs)
    if handle is None:
        return None
    with Heartbeat(storage, handle):
        record_config(handle, cfg)
        try:
            result = work(cfg)
        except KeyboardInterrupt:
            _fail(handle, "interrupted (Ctrl-C)")
            raise
        except Exception as exc:  # one failed run must not end the stage; it runs again next time
            reason = f"{type(exc).__name__}: {exc}"
            _fail(handle, reason)
            if isinstance(exc, StudyError):  # a setting or an endpoint every run would fail on alike: stop here
                raise
            return handle, Recorded(None, reason)
        recorded = record(handle, result)
        if recorded.warning:
            say(f"trial {handle.number:>3} warning: {recorded.warning} (its scores are stored)")
        if recorded.values is None:
            _fail(handle, recorded.reason)
        else:
            handle.finish(TrialState.COMPLETE, recorded.values)
    return handle, recorded


def _fail(handle: Any, reason: str) -> None:
    handle.set_user_attr(keys.FAIL_REASON, reason)
    handle.finish(TrialState.FAIL)


__all__ = ["Recorded", "Recorder", "run_claimed"]
