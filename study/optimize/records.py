"""Writing a trial's results into its user attributes (the keys: :mod:`study.core.keys`).

Export, confirmation, the reports and human evaluation read what is written here.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import objectives
from study.core import keys
from study.core.config import TrialConfig
from study.finetune.data import QAPair


def _clean(metrics: dict[str, float]) -> dict[str, float | None]:
    # JSON has no NaN; Optuna stores user attributes as JSON.
    return {k: (float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None) for k, v in metrics.items()}


def record_config(trial: Any, cfg: TrialConfig) -> None:
    trial.set_user_attr(keys.CONFIG, cfg.to_dict())


def record_metrics(trial: Any, metrics: dict[str, float]) -> None:
    """Each metric as its own numeric attribute (the dashboard's table sorts by them) and their names;
    the readers take them through :func:`study.core.keys.trial_metrics`. The ``metrics`` mapping is
    still written for tools that read studies the old way."""
    clean = _clean(metrics)
    for name, value in clean.items():
        trial.set_user_attr(name, value)
    trial.set_user_attr(keys.METRIC_NAMES, list(clean))
    trial.set_user_attr(keys.METRICS, clean)


def record_result(trial: Any, metrics: dict[str, float], history: Sequence[dict[str, float]],
                  questions: Sequence[QAPair], predictions: Sequence[str], n_samples: int) -> None:
    record_metrics(trial, metrics)
    trial.set_user_attr(keys.HISTORY, [_clean(h) for h in history])
    samples = [
        {"question": q.question, "reference": q.answer, "answer": a}
        for q, a in list(zip(questions, predictions))[:n_samples]
    ]
    trial.set_user_attr(keys.SAMPLES, samples)
    trial.set_user_attr(keys.ANSWERS, list(predictions))


def record_scores(trial: Any, per_question: Mapping[str, Sequence[Any]],
                  base_per_question: Mapping[str, Sequence[Any]] | None, metrics: Sequence[str],
                  same_decoding: Mapping[str, Sequence[Any]] | None = None) -> None:
    """Per-question scores, a 95 % interval for every metric, and the paired gain over the base model.

    ``metrics`` are those whose gain is recorded (the objectives). ``same_decoding``: the base model's
    per-question scores with the trial's own decoding and prompt (:mod:`study.finetune.fair_base`);
    where given, ``gain_vs_base`` is measured against it, and the gain against ``base_per_question``
    (the base trial, default decoding) is kept beside it, so a gain that is only decoding shows as
    such. Gains are left out while no base is scored (the report computes them from the per-question scores).
    """
    if not per_question:
        return
    trial.set_user_attr(keys.PER_QUESTION, {k: list(v) for k, v in per_question.items()})
    trial.set_user_attr(keys.INTERVALS, {k: i.to_dict() for k, i in objectives.interval_table(per_question).items()})
    if same_decoding:
        trial.set_user_attr(keys.GAIN_VS_BASE, objectives.gain_table(per_question, same_decoding, metrics))
        trial.set_user_attr(keys.GAIN_BASIS, keys.SAME_DECODING)
        if base_per_question:
            trial.set_user_attr(keys.GAIN_VS_BASE_DEFAULT, objectives.gain_table(per_question, base_per_question, metrics))
    elif base_per_question:
        trial.set_user_attr(keys.GAIN_VS_BASE, objectives.gain_table(per_question, base_per_question, metrics))


def trial_config(frozen: Any) -> TrialConfig:
    return TrialConfig.from_dict(frozen.user_attrs[keys.CONFIG], where=f"trial {frozen.number}")
