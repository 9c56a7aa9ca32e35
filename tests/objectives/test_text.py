from __future__ import annotations

import pytest

import objectives


def test_bleu_is_100_for_identical_sentences_and_lower_for_changed_ones():
    ref = ["tacrolimus levels are checked with trough blood tests every week"]
    assert objectives.bleu(ref, ref) == pytest.approx(100.0)
    assert objectives.bleu(["tacrolimus levels are checked by blood tests each month"], ref) < 50


def test_rouge_matches_hand_counted_overlap():
    scores = objectives.rouge(["a b c"], ["a b d"])
    assert scores["rouge1"] == pytest.approx(2 / 3)
    assert scores["rouge2"] == pytest.approx(1 / 2)
    assert scores["rougeL"] == pytest.approx(2 / 3)


def test_token_f1_normalises_case_punctuation_and_articles():
    assert objectives.token_f1(["The Heart."], ["heart"]) == pytest.approx(1.0)
    # pred: {cat, sat} vs ref: {cat}: precision 1/2, recall 1 -> F1 2/3
    assert objectives.token_f1(["cat sat"], ["cat"]) == pytest.approx(2 / 3)
    assert objectives.token_f1(["dog"], ["cat"]) == 0.0


def test_exact_match_counts_normalised_equal_answers():
    assert objectives.exact_match(["An mTOR inhibitor!", "no"], ["an mTOR inhibitor", "yes"]) == 0.5


def test_length_metrics():
    assert objectives.answer_words(["one two", "one two three four"]) == 3
    assert objectives.length_ratio(["one two three four"], ["one two"]) == 2.0


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError):
        objectives.token_f1(["a"], ["a", "b"])
    with pytest.raises(ValueError):
        objectives.bleu([], [])


def test_length_error_is_symmetric_and_zero_at_the_reference_length():
    import math

    assert objectives.length_error(["a b"], ["c d"]) == 0.0
    half = objectives.length_error(["a"], ["a b"])
    double = objectives.length_error(["a b c d"], ["a b"])
    assert half == pytest.approx(math.log(2)) and double == pytest.approx(math.log(2))
