from __future__ import annotations

import re
from html import escape
from pathlib import Path

import optuna

from reports import build_figures, render_html, study_data, write_report


def _page(study: optuna.Study) -> str:
    data = study_data(study)
    return render_html(data, build_figures(data))


def _section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    end = page.find("<h2", start)
    return page[start:end if end != -1 else len(page)]


def test_write_report_writes_the_page_and_creates_folders(study: optuna.Study, tmp_path: Path) -> None:
    out = write_report(study, tmp_path / "nested" / "heart.html")
    assert out == tmp_path / "nested" / "heart.html"
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_embeds_plotly_js_once_for_all_figures(study: optuna.Study) -> None:
    page = _page(study)
    drawn = sum(b.figure is not None for b in build_figures(study_data(study)))
    assert drawn >= 3
    assert page.count("plotly.js v") == 1  # the library's licence header
    assert len(re.findall(r'class="plotly-graph-div"', page)) == drawn
    assert not re.search(r"<script[^>]*\ssrc=", page)  # nothing fetched: the page works offline


def test_report_header_names_the_study_counts_and_sources(study: optuna.Study) -> None:
    page = _page(study)
    assert "<h1>Study heart</h1>" in page
    assert "6 (4 complete, 1 pruned, 1 fail)" in page
    assert "rougeL (max), bertscore_f1 (max), train_seconds (min)" in page
    assert "qa.jsonl" in page and "minilm@L6" in page


def test_report_escapes_sample_answers(study: optuna.Study, hostile_answer: str) -> None:
    page = _page(study)
    assert escape(hostile_answer) in page
    assert hostile_answer not in page


def test_best_table_lists_the_pareto_trials_with_answers_beside_references(study: optuna.Study) -> None:
    best = _section(_page(study), "best")
    assert re.findall(r"<summary>trial (\d+):", best) == ["3", "0", "2"]
    assert "<td>Reference 2.</td><td>Answer 2.</td>" in best
    assert "lora.rank" in best and "Reference 1." not in best


def test_trials_table_shows_why_a_trial_failed(study: optuna.Study) -> None:
    trials = _section(_page(study), "trials")
    assert "RuntimeError: out of memory" in trials
    assert "<td>PRUNED</td>" in trials


def test_report_of_a_study_without_trials_still_renders(tmp_path: Path) -> None:
    study = optuna.create_study(study_name="empty", directions=["maximize", "minimize"])
    page = write_report(study, tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "no COMPLETE trials yet" in page
    assert "plotly.js v" not in page
