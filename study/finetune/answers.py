"""Answer files from anywhere: reading them, and pairing two of them question by question.

An answer file is JSONL with one object per line holding ``question``, ``reference`` and
``answer`` (strings; other fields, such as the ``scores`` of a trial's predictions artifact
``trial-N-predictions.jsonl``, are ignored). Every problem stops with one line that names
the file and the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from study.core.errors import StudyError
from study.finetune.data import jsonl_objects

FIELDS = ("question", "reference", "answer")


@dataclass(frozen=True)
class AnswerRow:
    """One answer to score, with where it came from (1-based line of its file)."""

    question: str
    reference: str
    answer: str
    line: int


def read_answers(path: str | Path) -> list[AnswerRow]:
    """The rows of an answer file; a missing file, bad JSON, a missing field or a repeated question stops here."""
    path = Path(path)
    if path.is_dir():
        raise StudyError(f"{path}: is a directory, not an answer file")
    rows: list[AnswerRow] = []
    seen: dict[str, int] = {}
    for number, obj in jsonl_objects(path, "answer file", "an answer"):
        where = f"{path}:{number}"
        if not isinstance(obj, dict):
            raise StudyError(f'{where}: expected an object like {{"question": ..., "reference": ..., "answer": ...}}, '
                             f"got {type(obj).__name__}")
        for key in FIELDS:
            if key not in obj:
                raise StudyError(f"{where}: missing field '{key}' (each line needs {', '.join(FIELDS)})")
            if not isinstance(obj[key], str):
                raise StudyError(f"{where}: field '{key}' must be a string, got {type(obj[key]).__name__}")
        if not obj["question"].strip() or not obj["reference"].strip():
            raise StudyError(f"{where}: field '{'question' if not obj['question'].strip() else 'reference'}' is empty")
        if obj["question"] in seen:
            raise StudyError(f"{where}: the question of line {seen[obj['question']]} again (one answer per question)")
        seen[obj["question"]] = number
        rows.append(AnswerRow(obj["question"], obj["reference"], obj["answer"], number))
    if not rows:
        raise StudyError(f"{path}: no answers (the file is empty)")
    return rows


def paired(rows: list[AnswerRow], path: str | Path, other: list[AnswerRow], other_path: str | Path) -> list[AnswerRow]:
    """``other``'s rows in the order of ``rows``: the same questions with the same references, or one line why not."""
    by_question = {row.question: row for row in other}
    for row in rows:
        match = by_question.get(row.question)
        if match is None:
            raise StudyError(f"{path}:{row.line}: question {row.question[:60]!r} has no answer in {other_path}")
        if match.reference != row.reference:
            raise StudyError(f"{other_path}:{match.line}: the reference differs from {path}:{row.line} "
                             f"for question {row.question[:60]!r}")
    asked = {row.question for row in rows}
    for row in other:
        if row.question not in asked:
            raise StudyError(f"{other_path}:{row.line}: question {row.question[:60]!r} is not in {path}")
    return [by_question[row.question] for row in rows]


__all__ = ["AnswerRow", "FIELDS", "paired", "read_answers"]
