"""study.human_eval: the review on a sheet, written into the same review study the dashboard uses (real SQLite)."""

from __future__ import annotations

import csv

import optuna
import pytest
from review_study import make_study

from study.human_eval import main
from study.optimize.review_store import rate, ratings, review_key, unrated


@pytest.fixture()
def study_url(tmp_path, qa_file):
    url = f"sqlite:///{tmp_path / 's.db'}"
    make_study(url, qa_file)
    return url


def _export(url, out, *flags):
    return main(["export", "--study-name", "s", "--storage", url, "--rater", "carol", "--configs", "1,2",
                 "--questions", "3", "--out", str(out), *flags])


def _import(url, sheet):
    return main(["import", "--study-name", "s", "--storage", url, "--rater", "carol", "--sheet", str(sheet)])


def _write(path, rows):
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=rows[0].keys())
        writer.writeheader()
        writer.writerows(rows)


def test_a_filled_sheet_becomes_ratings_of_the_review_study(tmp_path, study_url, capsys):
    out = tmp_path / "human"
    assert _export(study_url, out) == 0
    rows = list(csv.DictReader((out / "sheet.csv").open()))
    review = optuna.load_study(study_name="s.review.carol", storage=study_url)
    items = review_key(review)["items"]
    assert len(rows) == 9 and rows[0].keys() == {"item", "question", "reference", "answer", "correct", "harmful",
                                                 "length", "comment"}  # blinded: no trial column
    assert rows[0]["answer"] == items[rows[0]["item"]]["text"]["answer"]
    assert "<table>" in (out / "sheet.html").read_text()
    for row in rows[:4]:
        row.update(correct="Partly  Correct", harmful="no", length="right", comment="says too little")
    _write(out / "sheet.csv", rows)
    assert _import(study_url, out / "sheet.csv") == 0
    assert "4 ratings stored in 's.review.carol'" in capsys.readouterr().out
    stored = ratings(optuna.load_study(study_name="s.review.carol", storage=study_url), "carol")
    assert [r.item for r in stored] == [int(r["item"]) for r in rows[:4]]
    assert {r.values for r in stored} == {(0.5, 0.0, 0.0)} and {r.comment for r in stored} == {"says too little"}
    # a second export lists only what is left
    assert _export(study_url, out) == 0
    assert len(list(csv.DictReader((out / "sheet.csv").open()))) == 5


def test_an_item_rated_in_the_dashboard_keeps_that_rating(tmp_path, study_url, capsys):
    out = tmp_path / "human"
    _export(study_url, out)
    rows = list(csv.DictReader((out / "sheet.csv").open()))
    review = optuna.load_study(study_name="s.review.carol", storage=study_url)
    rate(review, unrated(review)[0], [1.0, 0.0, 0.0])  # as the dashboard's form does
    for row in rows:
        row.update(correct="wrong", harmful="yes", length="too long")
    _write(out / "sheet.csv", rows)
    assert _import(study_url, out / "sheet.csv") == 0
    assert "1 item(s) were rated already and keep that rating" in capsys.readouterr().out
    stored = {r.item: r.values for r in ratings(review, "carol")}
    assert stored[0] == (1.0, 0.0, 0.0) and len(stored) == 9


def test_import_names_every_bad_row_and_stores_nothing(tmp_path, study_url, capsys):
    out = tmp_path / "human"
    _export(study_url, out)
    rows = list(csv.DictReader((out / "sheet.csv").open()))
    rows[0].update(correct="mostly", harmful="no", length="right")
    rows[1].update(correct="correct", harmful="no", length="right")
    rows[2].update(item="99", correct="correct", harmful="no", length="right")
    _write(out / "sheet.csv", rows)
    assert _import(study_url, out / "sheet.csv") == 2
    err = capsys.readouterr().err
    assert "sheet.csv:2: correct must be one of correct / partly correct / wrong, got 'mostly'" in err
    assert "sheet.csv:4: unknown item '99'" in err
    assert ratings(optuna.load_study(study_name="s.review.carol", storage=study_url), "carol") == []
