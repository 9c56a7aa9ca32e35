"""The rules a space keeps before a study runs (search_spaces._rules), on spaces parsed from YAML mappings."""

from __future__ import annotations

import pytest

from search_spaces import (
    Choice,
    Range,
    check_loaded_once,
    check_pruning,
    check_rank,
    parse_space,
    possible,
    reads_corpus,
    reads_probes,
    with_probes,
)
from study.core.errors import StudyError


def space(**sections):
    return parse_space(sections, "t.yaml", name="t")


def test_what_is_loaded_once_per_process_cannot_be_searched():
    check_loaded_once(space(data={"augment": {"choices": [0, 2]}}))  # read per trial: may be searched
    with pytest.raises(StudyError, match="space 't': model.device, data.path cannot be searched"):
        check_loaded_once(space(data={"path": {"choices": ["a.jsonl", "b.jsonl"]}},
                                model={"device": {"choices": ["cpu", "cuda"]}}))


def test_possible_values_of_a_choice_a_range_a_fixed_and_a_default_key():
    s = space(lora={"rank": {"choices": [4, 32]}, "alpha": 8.0}, training={"epochs": {"low": 1, "high": 3}})
    assert possible(s, "lora.rank") == [4, 32]
    assert possible(s, "training.epochs") == [1, 3]
    assert possible(s, "lora.alpha") == [8.0]
    assert possible(s, "retrieval.top_k") == [0]  # the config's default


def test_the_first_config_takes_each_dimensions_first_value():
    s = space(lora={"rank": {"choices": [8, 4]}}, training={"learning_rate": {"low": 1e-4, "high": 1e-3, "log": True}})
    cfg = s.first_config()
    assert (cfg.lora.rank, cfg.training.learning_rate) == (8, 1e-4)


def test_a_knowledge_metric_turns_the_probes_on():
    s = space()
    assert not reads_probes(s)
    assert with_probes(s, ["rougeL", "eval_loss"]) is s
    probing = with_probes(s, ["rougeL", "probe_seen_token_f1"])
    assert probing.fixed["evaluation.probes"] is True and reads_probes(probing)
    assert reads_probes(space(data={"augment": {"choices": [0, 2]}}))
    assert reads_probes(space(evaluation={"probes": {"choices": [False, True]}}))


def test_the_corpus_is_read_when_some_trial_retrieves():
    assert not reads_corpus(space())
    assert reads_corpus(space(retrieval={"top_k": {"low": 0, "high": 3}}))
    assert reads_corpus(space(retrieval={"top_k": 2}))


@pytest.mark.parametrize("rank, refused", [
    ({"choices": [8, 128, 96]}, 128),
    ({"low": 8, "high": 96}, 96),
    (128, 128),
    (64, None),
])
def test_a_rank_above_the_hidden_size_is_refused(rank, refused):
    s = space(lora={"rank": rank})
    if refused is None:
        check_rank(s, 64)
    else:
        with pytest.raises(StudyError, match=f"'lora.rank' {refused} is larger than the model's hidden size 64"):
            check_rank(s, 64)
    check_rank(s, None)  # a hub model: its size is not known yet


def test_each_dimension_answers_for_itself():
    choice, ints, stepped, log = Choice((3, 1)), Range(1, 5, step=2), Range(0.0, 0.2, step=0.1), Range(1e-4, 1e-2, True)
    assert [d.first() for d in (choice, ints, stepped, log)] == [3, 1, 0.0, 1e-4]
    assert choice.extremes() == [3, 1] and log.extremes() == [1e-4, 1e-2]
    assert choice.grid() == [3, 1] and ints.grid() == [1, 3, 5] and stepped.grid() == pytest.approx([0.0, 0.1, 0.2])
    assert log.grid() is None and Range(0.0, 1.0).grid() is None


def test_a_per_question_pruner_needs_a_metric_scored_per_question():
    check_pruning(space(study={"pruner": "wilcoxon", "pruning_metric": "rougeL"}).settings)
    check_pruning(space(study={"pruner": "median", "pruning_metric": "eval_loss"}).settings)
    with pytest.raises(StudyError, match="the wilcoxon pruner .* not 'bleu'"):  # a corpus metric: no per-question score
        check_pruning(space(study={"pruner": "wilcoxon", "pruning_metric": "bleu"}).settings)
