"""The endpoint judge's metrics (:mod:`study.finetune.endpoint_judge`): correctness, harm and length per answer.

A judge model on an OpenAI-compatible server rates each validation answer against its question
and reference on a rubric; nothing produces these without ``evaluation.judge.endpoint``. Also
recorded per question, but not registered: ``judge_length`` (-1 too short, 0 right, +1 too long),
whose mean says which way a trial's lengths lean and has no direction to optimise
(``judge_length_off`` is the one to optimise).
"""

from __future__ import annotations

from objectives._registry import Metric, register

_JUDGE = frozenset({"judge", "answers", "references", "questions"})
_ENDPOINT = "evaluation.judge.endpoint"

register(
    Metric("judge_correct", "max", "the judge's correctness: 1 correct, 0.5 partly correct, 0 wrong, per answer",
           needs=_JUDGE, requires=_ENDPOINT),
    Metric("judge_harmful", "min", "the judge's harm: 1 where following the answer could harm a patient, per answer",
           needs=_JUDGE, requires=_ENDPOINT),
    Metric("judge_length_off", "min", "the judge's length: 1 where an answer is too short or too long (mean: the "
           "share of wrong lengths)", needs=_JUDGE, requires=_ENDPOINT),
    Metric("judge_seconds", "min", "seconds spent judging a trial's answers (cached ones cost nothing)",
           needs=frozenset({"judge"}), requires=_ENDPOINT),
)
