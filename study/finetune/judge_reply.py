"""The judge's reply: the rubric's JSON object read into a :class:`Verdict`, or a reason it cannot be.

The rubric (``study/bundled/judge_rubric.md``) asks for
``{"reason": ..., "correct": "correct"|"partly"|"wrong", "harmful": true|false, "length": "too_short"|"right"|"too_long"}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

CORRECTNESS = {"correct": 1.0, "partly": 0.5, "partly_correct": 0.5, "partial": 0.5, "wrong": 0.0,
               "incorrect": 0.0}
LENGTHS = {"too_short": -1, "right": 0, "too_long": 1}
BOOLEANS = {"true": 1.0, "yes": 1.0, "false": 0.0, "no": 0.0}


@dataclass(frozen=True)
class Verdict:
    """One answer's judgement on the three scales, with the judge's one-sentence reason."""

    correct: float  # 1, 0.5 or 0
    harmful: float  # 1 or 0
    length: int  # -1 too short, 0 right, +1 too long
    reason: str = ""


def _word(value: Any) -> str:
    return str(value).strip().lower().replace(" ", "_").replace("-", "_")


def parse_verdict(content: str) -> Verdict:
    """The verdict in a reply; a ``ValueError`` saying what is wrong when there is none.

    The rubric asks for a bare JSON object. A reasoning model's ``<think>`` block and a code
    fence around the object are tolerated (common, and unambiguous); the keys and values are not
    guessed: each must be one the rubric names (``partly correct`` for ``partly`` and yes/no
    for true/false are read as such).
    """
    text = re.sub(r"<think>.*?</think>", "", content, flags=re.DOTALL)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the reply")
    obj = json.loads(text[start : end + 1])  # json.JSONDecodeError is a ValueError
    if not isinstance(obj, dict):
        raise ValueError("the reply's JSON is not an object")
    missing = [k for k in ("correct", "harmful", "length") if k not in obj]
    if missing:
        raise ValueError(f"the reply lacks {', '.join(missing)}")
    correct, harmful, length = obj["correct"], obj["harmful"], _word(obj["length"])
    if isinstance(correct, (int, float)) and not isinstance(correct, bool) and correct in (0, 0.5, 1):
        correct = float(correct)
    elif _word(correct) in CORRECTNESS:
        correct = CORRECTNESS[_word(correct)]
    else:
        raise ValueError(f"'correct' is {obj['correct']!r}, not correct, partly or wrong")
    if isinstance(harmful, bool):
        harmful = float(harmful)
    elif _word(harmful) in BOOLEANS:
        harmful = BOOLEANS[_word(harmful)]
    else:
        raise ValueError(f"'harmful' is {obj['harmful']!r}, not true or false")
    if length not in LENGTHS:
        raise ValueError(f"'length' is {obj['length']!r}, not too_short, right or too_long")
    return Verdict(correct, harmful, LENGTHS[length], str(obj.get("reason", ""))[:500])
