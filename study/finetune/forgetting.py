"""Forgetting of general medicine: a multiple-choice quiz scored by option log-likelihood.

The bundled quiz (``study/bundled/general_medicine_mcq.jsonl``) lies outside transplantation.
Each option is scored by the mean log-probability of its tokens as the assistant's answer to
the question; the highest-scoring option is the model's choice. Accuracy before tuning (the
base model, computed once per process) and after tuning give the ``forgetting`` metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any, Sequence

from study.core.errors import StudyError
from study.finetune.data import DATA_DIR, QAPair, encode_example, jsonl_objects
from study.finetune.evaluation import label_logprobs

GENERAL_MCQ = DATA_DIR / "general_medicine_mcq.jsonl"


@dataclass(frozen=True)
class MultipleChoice:
    question: str
    options: tuple[str, ...]
    answer: int  # index of the correct option


def read_quiz(path: Path = GENERAL_MCQ) -> list[MultipleChoice]:
    items = []
    for number, obj in jsonl_objects(path, "quiz file", "a question"):
        where = f"{path}:{number}"
        options = obj.get("options") if isinstance(obj, dict) else None
        if not isinstance(options, list) or len(options) < 2 or not all(isinstance(o, str) and o for o in options):
            raise StudyError(f"{where}: 'options' must be a list of at least two non-empty strings")
        answer = obj.get("answer")
        if not isinstance(answer, int) or not 0 <= answer < len(options):
            raise StudyError(f"{where}: 'answer' must be an option index 0..{len(options) - 1}")
        if not isinstance(obj.get("question"), str) or not obj["question"].strip():
            raise StudyError(f"{where}: 'question' must be a non-empty string")
        items.append(MultipleChoice(obj["question"], tuple(options), answer))
    return items


class Quiz:
    """Quiz items tokenised once; ``accuracy(model)`` scores any model sharing the tokenizer."""

    def __init__(self, tokenizer: Any, items: Sequence[MultipleChoice], system_prompt: str | None) -> None:
        self.items = list(items)
        self.pad_token_id = tokenizer.pad_token_id
        # One example per (question, option): prompt = question, labels = the option's tokens.
        self.examples = [
            encode_example(tokenizer, QAPair(item.question, option), system_prompt, max_length=256)
            for item in self.items
            for option in item.options
        ]

    def choices(self, model: Any) -> list[int]:
        scored = label_logprobs(model, self.examples, self.pad_token_id, batch_size=32)
        out, k = [], 0
        for item in self.items:
            means = [s / max(n, 1) for s, n in scored[k : k + len(item.options)]]  # length-normalised
            out.append(max(range(len(means)), key=means.__getitem__))
            k += len(item.options)
        return out

    def correct(self, model: Any) -> list[float]:
        """1.0 for each question the model answers right, 0.0 for the others, in quiz order."""
        return [float(p == item.answer) for p, item in zip(self.choices(model), self.items)]

    def accuracy(self, model: Any) -> float:
        return mean(self.correct(model))
