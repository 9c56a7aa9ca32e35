"""study.score: any answers scored with the study's metrics, with intervals, and two answer files compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import objectives
from study.finetune.data import QAPair
from study.optimize.dashboard import predictions_jsonl
from study.score import main

ROWS = [
    ("What is given against rejection?", "tacrolimus mycophenolate and steroids", "tacrolimus mycophenolate and steroids"),
    ("How is rejection found?", "an endomyocardial biopsy of the heart", "a biopsy of the heart muscle"),
    ("Which virus matters most early?", "cytomegalovirus in the first year", "cytomegalovirus"),
    ("Why is the resting pulse fast?", "the donor heart has no nerve supply", "unknown to me"),
]


def write(path: Path, rows, fields=("question", "reference", "answer")) -> str:
    path.write_text("".join(json.dumps(dict(zip(fields, r)), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


def test_known_answers_give_known_scores(capsys, tmp_path):
    path = write(tmp_path / "a.jsonl", ROWS)
    code, out, err = run(["--answers", path, "--json", "--no-bertscore", "--language", "en"], capsys)
    assert code == 0 and err[0] == "language: en (--language)"
    summary = json.loads(out)
    preds, refs = [r[2] for r in ROWS], [r[1] for r in ROWS]
    rouge = objectives.rouge_per_question(preds, refs)
    assert [q["scores"]["rougeL"] for q in summary["per_question"]] == [r["rougeL"] for r in rouge]
    scores = [q["scores"] for q in summary["per_question"]]
    assert scores[0]["exact_match"] == 1.0 and scores[0]["rougeL"] == 1.0 and scores[3]["rougeL"] == 0.0
    # "a biopsy of the heart muscle" against "an endomyocardial biopsy of the heart": 4 of 6 tokens in sequence
    assert scores[1]["rougeL"] == pytest.approx(2 / 3) and scores[1]["rouge1"] == pytest.approx(2 / 3)
    # "cytomegalovirus" against "cytomegalovirus in the first year": token-F1 after dropping "the": 2 * 1 * 1/4 / (1 + 1/4)
    assert scores[2]["token_f1"] == pytest.approx(0.4)
    assert summary["metrics"]["rougeL"]["estimate"] == pytest.approx(sum(r["rougeL"] for r in rouge) / 4)
    assert summary["metrics"]["bleu"]["estimate"] == pytest.approx(objectives.bleu(preds, refs))
    for iv in summary["metrics"].values():
        assert iv["low"] <= iv["estimate"] <= iv["high"] and iv["n"] == 4
    assert "bertscore_f1" not in summary["metrics"]


def test_the_table_shows_every_metric_with_its_interval_and_bertscore(capsys, tmp_path):
    path = write(tmp_path / "a.jsonl", ROWS)
    code, out, _ = run(["--answers", path], capsys)
    lines = out.splitlines()
    assert code == 0 and lines[0] == f"{path}: 4 answers, language en"
    assert lines[2].split() == ["metric", "mean", "95", "%", "interval"]
    assert [line.split()[0] for line in lines[3:]] == ["rougeL", "rouge1", "rouge2", "bleu", "chrf", "token_f1",
                                                       "exact_match", "bertscore_f1", "answer_words", "length_ratio",
                                                       "length_error"]
    assert 0 < float(lines[10].split()[1]) < 1  # BERTScore with the bundled encoder


def test_against_gives_the_paired_gain_per_metric(capsys, tmp_path):
    better = write(tmp_path / "better.jsonl", [(q, r, r) for q, r, _ in ROWS])  # every answer is its reference
    worse = write(tmp_path / "worse.jsonl", list(reversed(ROWS)))  # another order: paired by question
    code, out, _ = run(["--answers", better, "--against", worse, "--json", "--no-bertscore"], capsys)
    assert code == 0
    summary = json.loads(out)
    gains = summary["gains"]
    rouge = objectives.rouge_per_question([r[2] for r in ROWS], [r[1] for r in ROWS])
    expected = 1.0 - sum(r["rougeL"] for r in rouge) / 4
    assert gains["rougeL"]["gain"] == pytest.approx(expected) and gains["rougeL"]["tuned"] == 1.0
    low, high = gains["rougeL"]["gain_ci95"]
    assert 0 < low <= expected <= high
    assert 0 < gains["rougeL"]["p_value"] <= 1 and gains["bleu"]["p_value"] is None
    assert gains["length_error"]["gain"] < 0  # a gain toward the reference's length: smaller is better
    code, out, _ = run(["--answers", better, "--against", worse, "--no-bertscore"], capsys)
    assert "95 % interval of the gain" in out and f"gain = these answers − {worse}" in out


def test_a_trial_predictions_artifact_is_read(capsys, tmp_path):
    pairs = [QAPair(q, r) for q, r, _ in ROWS]
    text = predictions_jsonl(pairs, [a for _, _, a in ROWS], {"rougeL": [0.5] * 4})
    path = tmp_path / "trial-3-predictions.jsonl"
    path.write_text(text, encoding="utf-8")
    code, out, _ = run(["--answers", str(path), "--json", "--no-bertscore"], capsys)
    assert code == 0 and json.loads(out)["questions"] == 4


def test_swedish_answers_equal_to_their_references_score_one(capsys, tmp_path):
    rows = [json.loads(line) for line in (Path(objectives.__file__).parents[1] / "study" / "bundled" /
                                          "heart_transplant_qa_sv.jsonl").read_text(encoding="utf-8").splitlines()]
    path = write(tmp_path / "sv.jsonl", [(r["question"], r["answer"], r["answer"]) for r in rows])
    code, out, err = run(["--answers", path, "--json", "--no-bertscore"], capsys)
    summary = json.loads(out)
    assert code == 0 and summary["language"] == "sv" and err[0] == "language: sv (detected from the file)"
    for metric in ("rougeL", "rouge1", "rouge2", "token_f1", "exact_match", "chrf"):
        assert summary["metrics"][metric]["estimate"] == 1.0
    assert summary["metrics"]["bleu"]["estimate"] == pytest.approx(100.0)


@pytest.mark.parametrize("content, expected", [
    ('{"question": "q1", "reference": "r1", "answer": "a1"}\n{"question": "q2", "reference": "r2"}\n',
     ":2: missing field 'answer' (each line needs question, reference, answer)"),
    ('{"question": "q1", "reference": "r1", "answer": "a1"}\n\n{"question": "q2", "reference": \n',
     ":3: not valid JSON (Expecting value)"),
    ('["q1", "r1", "a1"]\n', ":1: expected an object like"),
    ('{"question": "q1", "reference": "r1", "answer": 3}\n', ":1: field 'answer' must be a string, got int"),
    ('{"question": "q1", "reference": "r1", "answer": "a"}\n{"question": "q1", "reference": "r1", "answer": "b"}\n',
     ":2: the question of line 1 again (one answer per question)"),
    ("", ": no answers (the file is empty)"),
])
def test_bad_input_is_one_line_naming_file_and_line(capsys, tmp_path, content, expected):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(["--answers", str(path), "--no-bertscore"], capsys)
    assert code == 2 and out == "" and len(err) == 1
    assert err[0].startswith(f"error: {path}") and expected in err[0]


def test_answers_to_other_questions_are_named_by_file_and_line(capsys, tmp_path):
    mine = write(tmp_path / "mine.jsonl", ROWS)
    extra = write(tmp_path / "extra.jsonl", [*ROWS, ("An extra question?", "yes", "yes")])
    fewer = write(tmp_path / "fewer.jsonl", ROWS[:3])
    changed = write(tmp_path / "changed.jsonl", [ROWS[0], (ROWS[1][0], "another reference", "x"), *ROWS[2:]])
    for other, expected in [
        (extra, f"error: {extra}:5: question 'An extra question?' is not in {mine}"),
        (fewer, f"error: {mine}:4: question 'Why is the resting pulse fast?' has no answer in {fewer}"),
        (changed, f"error: {changed}:2: the reference differs from {mine}:2 for question 'How is rejection found?'"),
    ]:
        code, _, err = run(["--answers", mine, "--against", other, "--no-bertscore"], capsys)
        assert code == 2 and err == [expected]
    code, _, err = run(["--answers", str(tmp_path / "none.jsonl"), "--no-bertscore"], capsys)
    assert code == 2 and err == [f"error: {tmp_path / 'none.jsonl'}: answer file not found"]


def test_a_language_the_metrics_cannot_read_stops_with_one_line(capsys, tmp_path):
    rows = [("Вопрос один?", "Пересаженное сердце бьётся чаще в покое.", "x"),
            ("Вопрос два?", "Отторжение выявляют с помощью биопсии сердца.", "y")]
    path = write(tmp_path / "ru.jsonl", rows)
    code, _, err = run(["--answers", path, "--language", "en", "--no-bertscore"], capsys)
    assert code == 2 and len(err) == 1 and "cannot score language 'en'" in err[0] and "rougeL" in err[0]
    code, _, err = run(["--answers", path, "--language", "russian", "--no-bertscore"], capsys)
    assert code == 2 and err == ["error: --language: language must be a two-letter ISO 639-1 code such as en, sv "
                                 "or zh, got 'russian'"]


def test_the_judge_rates_answer_files_and_its_gains_get_intervals(capsys, tmp_path, monkeypatch):
    from judge_servers import ChatServer, scripted_judge

    monkeypatch.chdir(tmp_path)  # the judgement cache goes to studies/ under the working directory
    better = write(tmp_path / "better.jsonl", [(q, r, r) for q, r, _ in ROWS])  # every answer is its reference
    harmful = write(tmp_path / "harmful.jsonl", [(q, r, "double the dose") for q, r, _ in ROWS])
    with ChatServer(scripted_judge) as server:
        code, out, err = run(["--answers", better, "--against", harmful, "--json", "--no-bertscore",
                              "--judge-endpoint", server.url, "--judge-model", "judge"], capsys)
        asked = len(server.requests)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["metrics"]["judge_correct"]["estimate"] == pytest.approx(1.0)  # every answer is its reference
    correct = summary["gains"]["judge_correct"]
    assert correct["gain"] > 0 and correct["gain_ci95"][0] > 0  # against wrong or partly right answers
    assert summary["gains"]["judge_harmful"]["gain"] == pytest.approx(-1.0)  # none harmful against all harmful
    assert asked == 2 * len(ROWS)  # one request per answer, none twice
