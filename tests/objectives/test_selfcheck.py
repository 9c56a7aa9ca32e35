from __future__ import annotations

import json
from pathlib import Path

import pytest

import objectives

BUNDLED = Path(objectives.__file__).parent.parent / "study" / "bundled"

# References written for this test, in the project's own words: well-known facts of transplant care.
REFERENCES = {
    "ru": [
        "После пересадки сердца пациент всю жизнь принимает препараты против отторжения.",
        "Острое отторжение чаще всего выявляют с помощью биопсии сердечной мышцы.",
        "Цитомегаловирус опасен в первый год после трансплантации.",
        "Группа крови донора и реципиента должна быть совместима по системе АВ0.",
        "Пересаженное сердце бьётся в покое чаще, потому что у него нет нервов.",
        "Такролимус может повреждать почки, поэтому его уровень в крови регулярно проверяют.",
    ],
    "el": [
        "Μετά τη μεταμόσχευση καρδιάς ο ασθενής παίρνει φάρμακα κατά της απόρριψης για όλη του τη ζωή.",
        "Η οξεία απόρριψη διαγιγνώσκεται συνήθως με βιοψία του μυοκαρδίου.",
        "Ο κυτταρομεγαλοϊός είναι σημαντική λοίμωξη τον πρώτο χρόνο μετά τη μεταμόσχευση.",
        "Οι ομάδες αίματος του δότη και του λήπτη πρέπει να είναι συμβατές.",
        "Η μεταμοσχευμένη καρδιά χτυπά πιο γρήγορα σε ηρεμία επειδή δεν έχει νεύρα.",
        "Το τακρόλιμους μπορεί να βλάψει τους νεφρούς, γι' αυτό μετράται το επίπεδό του στο αίμα.",
    ],
    "zh": [
        "心脏移植后病人需要终身服用抗排斥药物。",
        "急性排斥反应通常通过心肌活检来诊断。",
        "巨细胞病毒是移植后第一年的重要感染。",
        "供者和受者的血型必须相容。",
        "移植的心脏没有神经支配，所以静息心率较快。",
        "他克莫司可能损伤肾脏，因此要定期检测血药浓度。",
    ],
}


def _bundled(name: str) -> list[str]:
    return [json.loads(line)["answer"] for line in (BUNDLED / name).read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("code", ["ru", "el", "zh"])
def test_the_self_check_fails_where_the_tokeniser_drops_non_ascii(code):
    # language "en" is rouge-score's a-z tokeniser and BLEU's 13a: what every study used before languages
    check = objectives.self_check(REFERENCES[code], "en")
    failure = check.failure()
    assert failure is not None and "rougeL" in failure and "'en'" in failure and "\n" not in failure
    assert "rougeL gives identical text 0." in failure  # far from 1: only digits such as "0" survive


def test_the_self_check_on_chinese_names_bleu_too():
    problems = " ".join(objectives.self_check(REFERENCES["zh"], "en").problems)
    assert "bleu gives identical text 0.0, not 100" in problems


@pytest.mark.parametrize("code", ["ru", "el", "zh"])
def test_the_self_check_passes_with_the_language_s_tokeniser(code):
    check = objectives.self_check(REFERENCES[code], code)
    assert check.failure() is None, check.summary()
    assert {c.metric for c in check.checks} == {"rouge1", "rouge2", "rougeL", "bleu", "token_f1", "exact_match", "chrf"}
    assert all(c.shuffled < c.identical for c in check.checks)


def test_the_self_check_passes_on_the_swedish_and_the_english_data():
    sv = objectives.self_check(_bundled("heart_transplant_qa_sv.jsonl"), "sv")
    en = objectives.self_check(_bundled("heart_transplant_qa.jsonl"), "en")
    assert sv.failure() is None and en.failure() is None
    assert sv.references == 31 and en.references == objectives._selfcheck.MAX_REFERENCES
    assert "passed" in sv.summary() and sv.summary().startswith("metric self-check (sv, 31 references")


class ConstantEncoder:
    """An encoder that finds every answer identical to its reference."""

    def per_question(self, predictions, references):
        return [1.0] * len(predictions)


def test_a_metric_that_cannot_tell_answers_apart_is_named():
    constant = objectives.self_check(REFERENCES["ru"], "ru", encoder=ConstantEncoder())
    assert constant.problems == ["bertscore_f1 cannot tell answers to other questions apart from identical text "
                                 "(1.000 vs 1.000)"]


def test_short_references_are_not_checked():
    check = objectives.self_check(["ja", "nej", "kanske"], "sv")
    assert check.checks == () and check.failure() is None and "skipped" in check.summary()


def test_the_shuffle_never_leaves_a_reference_in_place():
    items = [str(i) for i in range(50)]
    for seed in range(5):
        assert all(a != b for a, b in zip(objectives._selfcheck._derangement(items, seed), items))
