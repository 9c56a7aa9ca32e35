from __future__ import annotations

import csv
import json

import optuna
import pytest

from study.core.config import DataConfig, TrialConfig
from study.finetune.data import load_splits
from study.human_eval import agreement, main


@pytest.fixture()
def rated_study(tmp_path, qa_file):
    """A 4-trial study whose trials answered the validation questions with different quality."""
    url = f"sqlite:///{tmp_path / 'h.db'}"
    study = optuna.create_study(study_name="h", storage=url, directions=["maximize", "minimize"])
    study.set_metric_names(["rougeL", "answer_words"])
    cfg = TrialConfig(data=DataConfig(path=str(qa_file), val_fraction=0.2, test_fraction=0.2))
    val = load_splits(cfg.data).val
    for quality in range(4):
        trial = study.ask()
        trial.set_user_attr("config", cfg.to_dict())
        trial.set_user_attr("answers", [f"answer q{i} of quality {quality}" for i in range(len(val))])
        trial.set_user_attr("metrics", {"rougeL": 0.1 * quality, "answer_words": 10.0 - quality})
        study.tell(trial, [0.1 * quality, 10.0 - quality])
    return url, study


def test_export_writes_a_blinded_sheet_and_import_attaches_ratings(tmp_path, rated_study, capsys):
    url, study = rated_study
    out = tmp_path / "human"
    assert main(["export", "--study-name", "h", "--storage", url, "--trials", "0,1,2,3", "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "sheet.csv").open()))
    key = json.loads((out / "key.json").read_text())
    assert len(rows) == 4 * 4 and set(key) == {r["item"] for r in rows}
    assert rows[0].keys() == {"item", "question", "reference", "answer", "rating", "comment"}  # blinded: no trial column
    assert "<table>" in (out / "sheet.html").read_text()
    # raters give the better trials higher marks
    for row in rows:
        row["rating"] = str(1 + key[row["item"]]["trial"])
    with (out / "sheet.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=rows[0].keys())
        writer.writeheader()
        writer.writerows(rows)
    assert main(["import", "--study-name", "h", "--storage", url, "--sheet", str(out / "sheet.csv"),
                 "--key", str(out / "key.json")]) == 0
    study = optuna.load_study(study_name="h", storage=url)
    assert study.user_attrs["human_eval"]["3"]["mean_rating"] == 4.0
    assert study.user_attrs["human_agreement"]["rougeL"] == pytest.approx(1.0)
    assert study.user_attrs["human_agreement"]["answer_words"] == pytest.approx(-1.0)


def test_import_refuses_out_of_range_ratings_with_the_line(tmp_path, rated_study, capsys):
    url, _ = rated_study
    out = tmp_path / "human"
    main(["export", "--study-name", "h", "--storage", url, "--out", str(out)])
    rows = list(csv.DictReader((out / "sheet.csv").open()))
    rows[0]["rating"] = "9"
    with (out / "sheet.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=rows[0].keys())
        writer.writeheader()
        writer.writerows(rows)
    code = main(["import", "--study-name", "h", "--storage", url, "--sheet", str(out / "sheet.csv"),
                 "--key", str(out / "key.json")])
    err = capsys.readouterr().err
    assert code == 2 and "sheet.csv:2: rating must be a whole number 1-5, got '9'" in err


def test_agreement_needs_three_trials_and_variation():
    assert agreement({0: 1.0, 1: 2.0}, {0: {"m": 1.0}, 1: {"m": 2.0}}) == {"m": None}
    assert agreement({0: 1.0, 1: 2.0, 2: 3.0}, {0: {"m": 3.0}, 1: {"m": 2.0}, 2: {"m": 1.0}})["m"] == pytest.approx(-1.0)
