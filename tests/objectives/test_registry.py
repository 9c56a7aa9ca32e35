"""The metric registry: one entry per metric, read by scoring, objectives, directions and checks."""

from __future__ import annotations

import pytest

import objectives
from objectives import Answers, Metric, metric, register, registered, unproduced
from objectives.metrics.chrf import chrf_per_question
from study.core.errors import StudyError
from study.finetune.evaluation import score_answers

PREDICTIONS = ["Tacrolimus levels are checked often early on", "the heart is a pump", "hjärtsvikt"]
REFERENCES = ["Tacrolimus trough levels are checked often in the first months", "rejection is graded", "hjärtsvikten"]


def test_every_answer_metric_of_the_registry_is_scored_with_its_direction():
    scored = score_answers(PREDICTIONS, REFERENCES, None)
    answer_metrics = {m.name for m in objectives.answer_metrics(with_encoder=False)}
    assert answer_metrics == set(scored.metrics)  # a metric registered is a metric scored, and nothing else
    assert {"bleu", "rougeL", "token_f1", "chrf", "length_error"} <= answer_metrics
    for name in answer_metrics - {"bleu"}:
        assert len(scored.per_question[name]) == len(PREDICTIONS)
    assert objectives.stats_key("bleu") in scored.per_question  # a corpus metric keeps its rows
    assert objectives.METRICS["chrf"] == "max" and objectives.METRICS["length_error"] == "min"
    assert objectives.parse_objectives(["chrf"])[0].direction == "maximize"


def test_chrf_gives_identical_text_its_perfect_score_and_credits_shared_characters():
    same, other, compound = chrf_per_question(["hjärtsvikt efter transplantation"] * 3,
                                          ["hjärtsvikt efter transplantation", "avstötning graderas", "hjärtsvikten"])
    assert same == pytest.approx(1.0)
    assert other < 0.2 < compound < 1.0  # a Swedish inflection shares most of its characters; no stemmer needed
    from sacrebleu.metrics import CHRF

    assert chrf_per_question(["the heart"], ["a heart"])[0] == pytest.approx(CHRF().sentence_score("the heart", ["a heart"]).score / 100)


def test_an_unknown_metric_names_the_valid_ones():
    with pytest.raises(StudyError, match="unknown metric 'rougel'.*rougeL.*chrf"):
        metric("rougel")


def test_a_metric_is_registered_once_and_only_answer_metrics_have_a_per_question_function():
    with pytest.raises(ValueError, match="registered twice"):
        register(Metric("rougeL", "max", "again"))
    with pytest.raises(ValueError, match="needs"):
        Metric("needs_a_model", "max", "x", needs=frozenset({"model"}), per_question=lambda a: [])
    with pytest.raises(ValueError, match="direction"):
        Metric("sideways", "up", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="predictions"):
        Answers(["a"], ["a", "b"])


def test_an_objective_nothing_produces_is_named_before_the_study():
    settings = {"evaluation.general_questions": 0}.get
    problems = unproduced(["rougeL", "forgetting"], settings)
    assert len(problems) == 1 and "forgetting" in problems[0] and "evaluation.general_questions" in problems[0]
    assert unproduced(["forgetting"], {"evaluation.general_questions": 40}.get) == []
    assert all(not m.on_validation for n, m in registered().items() if n.startswith("probe_") and "seconds" not in n)
