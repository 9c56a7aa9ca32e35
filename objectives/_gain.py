"""A gain over the base model as one typed value, and the one sentence every command says about it.

``gain = tuned − base`` on the same questions, with its paired interval and the Wilcoxon p-value.
Studies store gains as dicts (``gain``, ``gain_ci95``, ``p_value``, ``questions``, ...; see
:func:`objectives.gain_summary`); :meth:`Gain.from_dict` reads them, old studies' included.
Whether a gain *beats* the base depends on the direction the study optimises, so it is asked
with the direction rather than stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from objectives._stats import CONFIDENCE


@dataclass(frozen=True)
class Gain:
    """``tuned − base`` with its interval ``[low, high]`` over ``questions``, and the Wilcoxon p-value."""

    gain: float
    low: float
    high: float
    p_value: float | None = None
    questions: int | None = None
    base: float | None = None
    tuned: float | None = None
    confidence: float = CONFIDENCE

    @classmethod
    def from_dict(cls, stored: Any) -> Gain | None:
        """A stored gain, or None where it is missing or incomplete."""
        if not isinstance(stored, Mapping):
            return None
        ci = stored.get("gain_ci95")
        numbers = [stored.get("gain"), *(ci if isinstance(ci, (list, tuple)) and len(ci) == 2 else (None, None))]
        if any(_number(x) is None for x in numbers):
            return None
        questions = stored.get("questions")
        return cls(float(numbers[0]), float(numbers[1]), float(numbers[2]), _number(stored.get("p_value")),
                   questions if isinstance(questions, int) else None, _number(stored.get("base")),
                   _number(stored.get("tuned")), float(stored.get("confidence", CONFIDENCE)))

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "tuned": self.tuned, "gain": self.gain, "gain_ci95": [self.low, self.high],
                "p_value": self.p_value, "questions": self.questions, "confidence": self.confidence}

    def beats(self, maximize: bool) -> bool:
        """The whole interval lies on the better side of 0."""
        return self.low > 0 if maximize else self.high < 0

    def worse(self, maximize: bool) -> bool:
        """The whole interval lies on the worse side of 0."""
        return self.high < 0 if maximize else self.low > 0

    def interval_text(self, digits: int = 4) -> str:
        d = f"+.{digits}g"
        return f"{self.gain:{d}}, {self.confidence * 100:.0f} % interval [{self.low:{d}}, {self.high:{d}}]"


def verdict(metric: str, gain: Gain, maximize: bool, who: str = "the fine-tune", where: str = "",
            digits: int = 4) -> str:
    """One sentence: ``who`` beats the base on ``metric``, is worse, or is not shown to differ.

    ``where`` says on which questions, e.g. "38 test questions"; it is added in brackets.
    """
    at, shown = _brackets(where, maximize), gain.interval_text(digits)
    if gain.beats(maximize):
        return f"{who} beats the base model on {metric} by {shown}{at}"
    if gain.worse(maximize):
        return f"{who} is WORSE than the base model on {metric}: {shown}{at}"
    return f"{who} is not shown to beat the base model on {metric}: the gain {shown}{at} includes no improvement"


def best_verdict(metric: str, gains: Mapping[int, Gain], maximize: bool, who: str = "configuration",
                 where: str = "", digits: int = 4) -> str:
    """One sentence about several trials' gains: the trial that beats the base most, or that none does.

    ``gains``: trial number -> its gain. ``who`` names the candidates in the negative sentence
    ("confirmed configuration"); ``where`` (the questions, the seeds, which base) is added in
    brackets. The trial is :func:`best_gain`'s.
    """
    if not gains:
        return f"no gain over the base model on {metric} could be computed"
    n = best_gain(gains, maximize)
    g = gains[n]
    at, shown = _brackets(where, maximize), g.interval_text(digits)
    if g.beats(maximize):
        return f"trial {n} beats the base model on {metric} by {shown}{at}"
    reading = "even the best is worse than the untuned base model" if g.worse(maximize) else "which includes no improvement"
    return f"no {who} beats the base model on {metric}: the best, trial {n}, gains {shown}{at}, {reading}"


def best_gain(gains: Mapping[int, Gain], maximize: bool) -> int:
    """The trial whose gain beats the base most or, where none does, the trial with the best gain.

    Ties go to the earlier trial. ``gains`` must not be empty.
    """
    sign = 1.0 if maximize else -1.0
    real = {n: g for n, g in gains.items() if g.beats(maximize)}
    return max((real or gains).items(), key=lambda kv: (sign * kv[1].gain, -kv[0]))[0]


def _brackets(where: str, maximize: bool) -> str:
    said = [part for part in (where, "" if maximize else "lower is better") if part]
    return f" ({'; '.join(said)})" if said else ""


def decoding_only(same_decoding: Any, default_decoding: Any, maximize: bool) -> bool:
    """True where a gain over the base with default decoding vanishes against the base with the same decoding.

    Both are stored gain dicts (or :class:`Gain`); the gain then came from the searched decoding and
    prompt, not from fine-tuning.
    """
    fair = same_decoding if isinstance(same_decoding, Gain) else Gain.from_dict(same_decoding)
    loose = default_decoding if isinstance(default_decoding, Gain) else Gain.from_dict(default_decoding)
    return fair is not None and loose is not None and loose.beats(maximize) and not fair.beats(maximize)


def _number(x: Any) -> float | None:
    """``x`` as a float where it is a finite number (not a bool), else None."""
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


__all__ = ["Gain", "best_gain", "best_verdict", "decoding_only", "verdict"]
