from __future__ import annotations

import json

import pytest

from study.core.config import DataConfig
from study.core.errors import StudyError
from study.finetune.data import BUNDLED_QA, IGNORE_INDEX, encode_example, load_splits, read_jsonl, split_pairs


def test_bundled_set_is_large_and_split_without_shared_questions():
    pairs = read_jsonl(BUNDLED_QA)
    assert len(pairs) >= 300
    splits = load_splits(DataConfig())
    keys = [{p.question.lower() for p in part} for part in (splits.train, splits.val, splits.test)]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    assert len(splits.train) + len(splits.val) + len(splits.test) == len(pairs)


def test_split_is_deterministic_by_seed_and_keeps_duplicates_together(qa_file):
    pairs = read_jsonl(qa_file)
    pairs.append(pairs[0])  # the same question twice
    a = split_pairs(pairs, 1, 0.2, 0.2)
    assert a == split_pairs(pairs, 1, 0.2, 0.2)
    assert a != split_pairs(pairs, 2, 0.2, 0.2)
    holding = [i for i, part in enumerate(a) if pairs[0] in part]
    assert len(holding) == 1 and a[holding[0]].count(pairs[0]) == 2


@pytest.mark.parametrize(
    "line, expected",
    [
        ("not json", "qa.jsonl:2: not valid JSON"),
        ("[1, 2]", "qa.jsonl:2: expected an object"),
        ('{"question": "q?"}', "qa.jsonl:2: missing field 'answer'"),
        ('{"question": "q?", "answer": "  "}', "qa.jsonl:2: field 'answer' is empty"),
        ('{"question": 3, "answer": "a"}', "qa.jsonl:2: field 'question' must be a string"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, expected):
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps({"question": "ok?", "answer": "ok"}) + "\n" + line + "\n")
    with pytest.raises(StudyError, match=expected.replace("[", r"\[").replace("?", r"\?")):
        read_jsonl(path)


def test_missing_empty_and_non_utf8_files(tmp_path):
    with pytest.raises(StudyError, match="not found"):
        read_jsonl(tmp_path / "absent.jsonl")
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(StudyError, match="empty"):
        read_jsonl(tmp_path / "empty.jsonl")
    (tmp_path / "latin.jsonl").write_bytes('{"question": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(StudyError, match="not UTF-8"):
        read_jsonl(tmp_path / "latin.jsonl")


def test_directory_splits_refuse_a_question_in_two_files(tmp_path):
    row = json.dumps({"question": "Same?", "answer": "Yes."})
    for name in ("train", "val", "test"):
        (tmp_path / f"{name}.jsonl").write_text(json.dumps({"question": f"{name}?", "answer": "a"}) + "\n")
    (tmp_path / "val.jsonl").write_text(row + "\n")
    (tmp_path / "test.jsonl").write_text(row + "\n")
    with pytest.raises(StudyError, match="in both val.jsonl and test.jsonl"):
        load_splits(DataConfig(path=str(tmp_path)))


def test_loss_covers_answer_tokens_only(default_model_dir):
    from transformers import AutoTokenizer

    from study.finetune.data import QAPair

    tok = AutoTokenizer.from_pretrained(default_model_dir)
    ex = encode_example(tok, QAPair("Which drug?", "Tacrolimus."), "Be brief.", 256)
    answer_ids = [t for t, lab in zip(ex["input_ids"], ex["labels"]) if lab != IGNORE_INDEX]
    assert ex["labels"][0] == IGNORE_INDEX
    assert tok.decode(answer_ids).startswith("Tacrolimus.")
    assert "Which drug?" not in tok.decode(answer_ids)


def test_the_fingerprint_changes_with_the_pairs_a_study_uses_and_only_with_them(qa_file):
    fingerprint = load_splits(DataConfig(path=str(qa_file))).fingerprint()
    assert load_splits(DataConfig(path=str(qa_file))).fingerprint() == fingerprint  # stable across loads
    assert load_splits(DataConfig(path=str(qa_file), split_seed=1)).fingerprint() != fingerprint
    assert load_splits(DataConfig(path=str(qa_file), max_train_examples=3)).fingerprint() != fingerprint
    rows = [json.loads(line) for line in qa_file.read_text().splitlines()]
    qa_file.write_text("\n\n".join(json.dumps(r) for r in rows) + "\n")  # blank lines between: the same pairs
    assert load_splits(DataConfig(path=str(qa_file))).fingerprint() == fingerprint
    rows[0]["context"] = "A passage the answer comes from."
    qa_file.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert load_splits(DataConfig(path=str(qa_file))).fingerprint() != fingerprint


def test_a_study_from_before_fingerprints_resumes_on_any_data(qa_file):
    from study.optimize.storage import check_same_data

    splits = load_splits(DataConfig(path=str(qa_file)))
    check_same_data("old", {"data_source": str(qa_file), "n_train": 1}, splits)  # no fingerprint stored: no check
    with pytest.raises(StudyError, match="began on other data"):
        check_same_data("new", {"data_fingerprint": "0" * 16}, splits)


def test_a_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "qa.jsonl"
    lines = [json.dumps({"question": f"Question {i}?", "answer": f"Answer {i}."}) for i in range(3)]
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode("utf-8"))  # what spreadsheet exports write
    pairs = read_jsonl(path)
    assert [p.question for p in pairs] == ["Question 0?", "Question 1?", "Question 2?"]
