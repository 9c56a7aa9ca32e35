from __future__ import annotations

import json
from pathlib import Path

import pytest

import objectives

ENGLISH = json.loads((Path(__file__).parent / "data" / "english_scores.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("language", [None, "en"])
def test_english_scores_are_exactly_those_recorded_before_languages_existed(language):
    # english_scores.json: 40 answers (copies, halves, other questions' answers, shuffles, shouting, empty,
    # edits, refusals) scored by the code of commit 2671747, before the metrics took a language.
    preds, refs = ENGLISH["predictions"], ENGLISH["references"]
    rouge = objectives.rouge_per_question(preds, refs, language)
    for key in ("rouge1", "rouge2", "rougeL"):
        assert [item[key] for item in rouge] == ENGLISH[key]
    assert objectives.token_f1_per_question(preds, refs, language) == ENGLISH["token_f1"]
    assert objectives.exact_match_per_question(preds, refs, language) == ENGLISH["exact_match"]
    assert [objectives.normalize(p, language) for p in preds] == ENGLISH["normalized"]
    assert objectives.bleu_stats(preds, refs, language) == ENGLISH["bleu_stats"]
    assert objectives.bleu(preds, refs, language) == ENGLISH["bleu"]


IDENTICAL = {
    "sv": "Hjärtsvikt är den vanligaste orsaken till hjärttransplantation hos vuxna.",
    "ru": "Отторжение трансплантата лечат высокими дозами стероидов.",
    "el": "Η απόρριψη του μοσχεύματος αντιμετωπίζεται με υψηλές δόσεις στεροειδών.",
    "zh": "心脏移植后需要终身服用免疫抑制药物。",
    "ja": "心臓移植の後は免疫抑制薬を一生飲み続ける必要がある。",
}


@pytest.mark.parametrize("code", sorted(IDENTICAL))
def test_an_answer_equal_to_its_reference_scores_perfectly_in_its_language(code):
    text = [IDENTICAL[code]]
    assert objectives.rouge(text, text, code) == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}
    assert objectives.bleu(text, text, code) == pytest.approx(100.0)
    assert objectives.token_f1(text, text, code) == 1.0
    assert objectives.exact_match(text, text, code) == 1.0


def test_english_tokenisation_fails_the_other_scripts_the_language_fixes():
    ru, zh = [IDENTICAL["ru"]], [IDENTICAL["zh"]]
    assert objectives.rouge(ru, ru)["rougeL"] == 0.0  # rouge-score keeps only a-z and 0-9
    assert objectives.bleu(zh, zh) == 0.0  # 13a: the sentence is one token
    assert objectives.rouge(ru, ru, "ru")["rougeL"] == 1.0


def test_swedish_words_keep_their_letters_and_are_stemmed_with_the_swedish_stemmer():
    sv = objectives.language("sv")
    assert sv.words("Är hjärtsvikten värre?") == ["är", "hjärtsvikten", "värre"]
    assert sv.tokenize("hjärtsvikten") == sv.tokenize("hjärtsvikt")  # Snowball: definite suffix removed
    # unrelated words that rouge-score's a-z tokeniser cut into the same fragment ("r") no longer match
    assert objectives.rouge(["är"], ["för"], "sv")["rouge1"] == 0.0
    assert objectives.rouge(["är"], ["för"])["rouge1"] == pytest.approx(2 / 3)  # "r" against "f", "r"


def test_articles_and_punctuation_are_dropped_per_language():
    assert objectives.normalize("Ett hjärta, en lunga!", "sv") == "hjärta lunga"
    assert objectives.normalize("Der Herzschlag ist «schnell».", "de") == "herzschlag ist schnell"
    assert objectives.exact_match(["Η καρδιά."], ["καρδιά"], "el") == 1.0


def test_chinese_is_scored_by_characters():
    zh = objectives.language("zh")
    assert zh.words("心脏移植 HLA 配型") == ["心", "脏", "移", "植", "hla", "配", "型"]
    # two characters of four in common: precision = recall = 1/2
    assert objectives.token_f1(["心脏手术"], ["心脏移植"], "zh") == pytest.approx(0.5)


def test_a_language_code_must_be_two_letters():
    with pytest.raises(ValueError, match="ISO 639-1"):
        objectives.language("swedish")


@pytest.mark.parametrize("code, text", [
    ("sv", "Efter en hjärttransplantation tar patienten läkemedel som dämpar immunförsvaret resten av livet."),
    ("ru", "После пересадки сердца пациент всю жизнь принимает лекарства, подавляющие иммунитет."),
    ("zh", "心脏移植后，病人需要终身服用抑制免疫系统的药物。"),
    ("en", "After a heart transplant the patient takes drugs that dampen the immune system for life."),
])
def test_the_language_of_the_data_is_detected(code, text):
    assert objectives.detect_language([text, text[:40]]) == code
