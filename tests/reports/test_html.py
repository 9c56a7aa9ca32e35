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
    assert "qa.jsonl (fingerprint 0123abcd4567ef89)" in page and "minilm@L6" in page


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


def test_report_has_a_section_per_analysis(clinical_study: optuna.Study) -> None:
    page = _page(clinical_study)
    for anchor in ("correlation", "test", "forgetting", "pretraining", "length", "review"):
        assert f'<h2 id="{anchor}">' in page
    assert page.index('id="intermediate"') < page.index('id="correlation"') < page.index('id="best"')


def test_test_split_table_shows_the_base_model_and_each_trials_gain(clinical_study: optuna.Study) -> None:
    section = _section(_page(clinical_study), "test")
    assert "<th>model</th><th>rougeL</th><th>length_error</th><th>bleu</th>" in section
    assert section.index("<td>base model</td>") < section.index("<td>trial 2</td>") < section.index("<td>trial 3</td>")
    assert "0.38<br><span class=\"gain\">+0.28 vs base</span>" in section


def test_pretraining_table_gives_count_mean_and_best_per_group(clinical_study: optuna.Study) -> None:
    section = _section(_page(clinical_study), "pretraining")
    assert ('<td>rougeL (max)</td><td>on (epochs &gt; 0)</td><td>2</td>'
            '<td><span class="num">0.275</span></td><td><span class="num">0.35</span></td>') in section


def test_review_section_gives_shares_against_the_base_agreement_and_metrics(clinical_study: optuna.Study) -> None:
    section = _section(_page(clinical_study), "review")
    assert "<td>trial 2</td><td>20</td><td><span class=\"num\">0.60 [0.39, 0.78]</span></td>" in section
    assert '<span class="num">+0.30 [+0.05, +0.55]</span>' in section  # correct, against the base
    assert "<td>correct</td><td>cohen kappa</td>" in section
    assert section.index("<td>rougeL</td>") < section.index("<td>bleu</td>")
    assert "bob: wrong drug" in section


def test_analysis_sections_without_their_data_are_notes(study: optuna.Study) -> None:
    page = _page(study)
    assert "no test-split scores yet: run python -m study.export" in _section(page, "test")
    assert "general_accuracy" in _section(page, "forgetting")
    assert "nothing to compare" in _section(page, "pretraining")
    assert "no clinicians&#x27; review yet" in _section(page, "review")
    assert "<table>" not in _section(page, "test") + _section(page, "review")


def test_blank_correlations_are_written_as_json_null() -> None:
    study = optuna.create_study(directions=["maximize"])
    for i in range(6):
        metrics = {"a": float(i), ("b" if i < 3 else "c"): float(i % 3)}
        study.add_trial(optuna.trial.create_trial(values=[float(i)], user_attrs={"metrics": metrics}))
    section = _section(_page(study), "correlation")
    assert "NaN" not in section and "null" in section


def test_report_of_a_study_with_the_base_model_shows_it_everywhere_but_the_ranking(liver_study) -> None:
    data = study_data(*liver_study)
    page = render_html(data, build_figures(data))
    assert "<td><b>base model decoding</b></td><td>the space&#x27;s decoding (not searched)</td>" in page
    assert "<td>0 (base model)</td><td>COMPLETE</td>" in _section(page, "trials")
    best = _section(page, "best")
    assert best.index("<td>0 (base model, untuned)</td>") < best.index("<td>4</td>")
    assert re.findall(r"<summary>trial (\d+):", best) == ["4", "5", "7", "1"]  # not the base model
    low, high = (data.pareto[0].intervals["rougeL"].low, data.pareto[0].intervals["rougeL"].high)
    assert f'<span class="gain">[{low:.3g}, {high:.3g}]</span>' in best
    for anchor in ("proxy", "vs-base", "confirmation"):
        assert f'<h2 id="{anchor}">' in page
    assert page.index('id="intermediate"') < page.index('id="proxy"') < page.index('id="vs-base"') \
        < page.index('id="confirmation"') < page.index('id="correlation"')
    assert page.count("plotly.js v") == 1 and not re.search(r"<script[^>]*\ssrc=", page)
