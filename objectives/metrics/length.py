"""Answer length: too verbose or too short, the motivating work's complaint."""

from __future__ import annotations

from objectives import _text
from objectives._registry import Metric, register

register(
    Metric("answer_words", "min", "answer length in whitespace-separated words", needs=frozenset({"answers"}),
           per_question=lambda a: _text.answer_words_per_question(a.predictions)),
    Metric("length_ratio", "min", "answer words / reference words: 1 is the reference's length",
           per_question=lambda a: _text.length_ratio_per_question(a.predictions, a.references)),
    Metric("length_error", "min", "|log(answer words / reference words)|: 0 when lengths match",
           per_question=lambda a: _text.length_error_per_question(a.predictions, a.references)),
)
