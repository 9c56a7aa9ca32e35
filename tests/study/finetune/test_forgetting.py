from __future__ import annotations

import json

import pytest

from study.core.errors import StudyError
from study.finetune.forgetting import GENERAL_MCQ, MultipleChoice, Quiz, read_quiz


def test_bundled_quiz_has_100_questions_outside_transplantation():
    items = read_quiz()
    assert len(items) >= 100
    assert all(len(i.options) == 4 and 0 <= i.answer < 4 for i in items)
    assert not any("transplant" in i.question.lower() for i in items)
    assert GENERAL_MCQ.is_file()


def test_bad_quiz_line_is_named(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"question": "q", "options": ["a", "b"], "answer": 5}) + "\n")
    with pytest.raises(StudyError, match="q.jsonl:1: 'answer' must be an option index"):
        read_quiz(path)


def test_quiz_picks_the_option_the_model_finds_most_likely(default_model_dir):
    """The real SmolLM2 knows that water is H2O better than it knows nonsense."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(default_model_dir)
    model = AutoModelForCausalLM.from_pretrained(default_model_dir)
    items = [
        MultipleChoice("What is the chemical formula of water?", ("H2O", "Blorp zizzle", "Qwv kkrt", "Zzzp mmx"), 0),
        MultipleChoice("Which organ pumps blood around the body?", ("Xqz vvv", "The heart", "Plim plom", "Krr tuv"), 1),
    ]
    quiz = Quiz(tok, items, system_prompt=None)
    assert quiz.choices(model) == [0, 1]
    assert quiz.correct(model) == [1.0, 1.0]  # per question: the report's forgetting interval resamples these
    assert quiz.accuracy(model) == 1.0
