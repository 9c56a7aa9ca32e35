"""What a study stores on each trial, in one place, so that export and reports read the same keys.

User attributes of a trial:
    ``config``   the full TrialConfig as a dict (export rebuilds the fine-tune from it);
    ``metrics``  validation metrics of the last evaluation;
    ``history``  one dict of metrics per evaluated epoch;
    ``samples``  a few questions with reference and generated answer;
    ``answers``  every validation answer, in the order of the validation split (human evaluation);
    ``pruned_at``, ``fail_reason`` where they apply.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from study.config import TrialConfig
from study.data import QAPair


def _clean(metrics: dict[str, float]) -> dict[str, float | None]:
    # JSON has no NaN; Optuna stores user attributes as JSON.
    return {k: (float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None) for k, v in metrics.items()}


def record_config(trial: Any, cfg: TrialConfig) -> None:
    trial.set_user_attr("config", cfg.to_dict())


def record_result(trial: Any, metrics: dict[str, float], history: Sequence[dict[str, float]],
                  questions: Sequence[QAPair], predictions: Sequence[str], n_samples: int) -> None:
    trial.set_user_attr("metrics", _clean(metrics))
    trial.set_user_attr("history", [_clean(h) for h in history])
    samples = [
        {"question": q.question, "reference": q.answer, "answer": a}
        for q, a in list(zip(questions, predictions))[:n_samples]
    ]
    trial.set_user_attr("samples", samples)
    trial.set_user_attr("answers", list(predictions))


def trial_config(frozen: Any) -> TrialConfig:
    return TrialConfig.from_dict(frozen.user_attrs["config"], where=f"trial {frozen.number}")
