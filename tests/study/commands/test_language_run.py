"""A study in the data's language: detected, fixed in every trial, named in the note, and the metrics self-checked."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from study.run import main

SWEDISH = Path(__file__).parents[3] / "study" / "bundled" / "heart_transplant_qa_sv.jsonl"
# Russian QA written for this test in the project's own words.
RUSSIAN = [
    ("Что чаще всего приводит к пересадке сердца у взрослых?", "Тяжёлая сердечная недостаточность, которая не отвечает на лечение."),
    ("Как выявляют острое отторжение?", "С помощью биопсии сердечной мышцы, взятой через вену."),
    ("Какой вирус опасен в первый год после пересадки?", "Цитомегаловирус, который вызывает лихорадку и поражение органов."),
    ("Почему пересаженное сердце бьётся чаще?", "У пересаженного сердца нет нервов, которые замедляют ритм в покое."),
    ("Зачем измеряют уровень такролимуса в крови?", "Слишком низкий уровень ведёт к отторжению, а слишком высокий вредит почкам."),
    ("Какие вакцины нельзя делать после пересадки?", "Живые вакцины, потому что иммунитет подавлен лекарствами."),
    ("Какой рак чаще всего бывает после пересадки сердца?", "Рак кожи, поэтому нужно защищаться от солнца и осматривать кожу."),
    ("Зачем после пересадки назначают статины?", "Статины снижают холестерин и замедляют болезнь сосудов пересаженного сердца."),
    ("Можно ли заниматься спортом после пересадки?", "Да, регулярные тренировки полезны, хотя пульс растёт медленнее обычного."),
    ("Почему совместимость групп крови так важна?", "Антитела реципиента сразу атакуют сердце несовместимой группы крови."),
]


def _study_files(tmp_path: Path) -> tuple[str, Path]:
    russian = tmp_path / "ru.jsonl"
    russian.write_text("".join(json.dumps({"question": q, "answer": a}, ensure_ascii=False) + "\n"
                               for q, a in RUSSIAN), encoding="utf-8")
    return f"sqlite:///{tmp_path / 'lang.db'}", russian


def test_a_metric_that_cannot_read_the_language_stops_the_study_before_the_storage(capsys, tmp_path, fake_model_dir):
    storage, russian = _study_files(tmp_path)
    code = main(["--space", "smoke", "--storage", storage, "--model", str(fake_model_dir), "--data", str(russian),
                 "--set", "data.language=en", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "the metrics cannot score language 'en'" in err[0] and "rougeL gives identical text 0" in err[0]
    assert not (tmp_path / "lang.db").exists()


def test_a_language_that_is_no_iso_code_is_refused(capsys, tmp_path, fake_model_dir):
    storage, russian = _study_files(tmp_path)
    code = main(["--space", "smoke", "--storage", storage, "--model", str(fake_model_dir), "--data", str(russian),
                 "--set", "data.language=russian", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ["error: data.language: language must be a two-letter ISO 639-1 code such as en, "
                                 "sv or zh, got 'russian'"]


def test_a_missing_bertscore_encoder_is_refused(capsys, tmp_path, fake_model_dir):
    storage, russian = _study_files(tmp_path)
    code = main(["--space", "smoke", "--storage", storage, "--model", str(fake_model_dir), "--data", str(russian),
                 "--set", f"evaluation.bertscore_model={tmp_path / 'none'}", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].endswith("none is not a directory (a local encoder is expected)")


def test_a_swedish_study_detects_its_language_and_scores_in_it(capsys, tmp_path, tiny_model_dir):
    storage = f"sqlite:///{tmp_path / 'sv.db'}"
    code = main(["--space", "smoke", "--storage", storage, "--model", str(tiny_model_dir), "--data", str(SWEDISH),
                 "--study-name", "sv", "--trials", "1", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "language: sv (detected from the data)" in out
    assert "metric self-check (sv, 9 references; identical/shuffled): bleu 100.0/" in out  # the smoke space: 6 + 3
    assert ": passed" in out
    assert "BERTScore uses the bundled English-only encoder on 'sv' answers" in err
    study = optuna.load_study(study_name="sv", storage=storage)
    assert study.user_attrs["language"] == "sv"
    assert all(t.user_attrs["config"]["data"]["language"] == "sv" for t in study.trials)
    from optuna_dashboard._note import get_note_from_system_attrs

    note = get_note_from_system_attrs(study._storage.get_study_system_attrs(study._study_id), None)["body"]
    assert "| language (metrics) | sv |" in note
    # The study's own validation references, scored as its trials score answers: equal answers score perfectly.
    from study.finetune.evaluation import score_answers

    base = next(t for t in study.trials if t.user_attrs.get("reference") == "base")
    references = [json.loads(line)["answer"] for line in SWEDISH.read_text(encoding="utf-8").splitlines()]
    answered = [r for r in references if any(r[:30] in s.get("reference", "") for s in base.user_attrs["samples"])]
    assert answered, "the stored samples hold the references of the validation questions"
    scores = score_answers(answered, answered, None, language=study.user_attrs["language"]).metrics
    assert scores["rougeL"] == scores["rouge1"] == scores["token_f1"] == scores["chrf"] == 1.0
    assert scores["bleu"] == pytest.approx(100.0)
    # Resumed in another language, the new trials' scores would not compare with the old: refused, nothing changed.
    code = main(["--space", "smoke", "--storage", storage, "--model", str(tiny_model_dir), "--data", str(SWEDISH),
                 "--study-name", "sv", "--trials", "1", "--no-progress", "--set", "data.language=en"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1] == ("error: study 'sv' ran with language sv, not en: resume it with "
                                     "--set data.language=sv, or start a new study with --study-name"), err
    assert len(optuna.load_study(study_name="sv", storage=storage).trials) == len(study.trials)


def test_a_trial_scores_english_exactly_as_before_languages_existed():
    # tests/objectives/data/english_scores.json: 40 answers scored by the code before the metrics took a language
    from study.finetune.evaluation import score_answers

    recorded = json.loads((Path(__file__).parents[2] / "objectives" / "data" / "english_scores.json").read_text())
    for language in (None, "en"):
        scored = score_answers(recorded["predictions"], recorded["references"], None, language=language)
        for key in ("rouge1", "rouge2", "rougeL", "token_f1", "exact_match", "bleu_stats"):
            assert scored.per_question[key] == recorded[key]
        assert scored.metrics["bleu"] == recorded["bleu"]
