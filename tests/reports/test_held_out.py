from __future__ import annotations

import optuna
import pytest

from reports import study_data
from reports._analyses import Analyses
from reports._block import OTHER_COLOR
from reports._held_out import figure as held_out_figure
from reports._held_out import held_out_scores
from reports._rows import ObjectiveInfo


def _analyses(study: optuna.Study) -> Analyses:
    return study_data(study).analyses


def test_held_out_rows_put_the_base_model_first_then_trials_by_number(clinical_study: optuna.Study) -> None:
    h = _analyses(clinical_study).held_out
    assert [(r.label, r.number) for r in h.rows] == [("base model", None), ("trial 2", 2), ("trial 3", 3)]
    assert h.metrics == ("rougeL", "length_error", "bleu")
    assert h.rows[1].scores["rougeL"] == 0.38 and h.note is None


def test_held_out_gains_are_differences_to_the_base_model(clinical_study: optuna.Study) -> None:
    base, trial_2, trial_3 = _analyses(clinical_study).held_out.rows
    assert base.gains == {}
    assert trial_2.gains["rougeL"] == pytest.approx(0.28)
    assert trial_3.gains["length_error"] == pytest.approx(-0.45)


def test_held_out_is_a_note_without_test_scores(study: optuna.Study) -> None:
    h = _analyses(study).held_out
    assert h.rows == () and "python -m study.export" in (h.note or "")


def test_held_out_without_the_base_model_shows_trials_without_gains() -> None:
    h = held_out_scores({"4": {"rougeL": 0.3}}, (ObjectiveInfo("rougeL", "maximize"),))
    assert [r.label for r in h.rows] == ["trial 4"] and h.rows[0].gains == {}
    assert "base model was not scored" in (h.note or "")


def test_held_out_figure_has_one_bar_chart_per_metric_with_the_base_model_grey(clinical_study: optuna.Study) -> None:
    fig = held_out_figure(study_data(clinical_study).analyses.held_out).figure
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 3 * 3  # (base model, trial 2, trial 3) x (rougeL, length_error, bleu)
    base = [t for t in bars if t.name == "base model"]
    assert [t.y[0] for t in base] == [0.10, 0.90, 0.02]
    assert {t.marker.color for t in base} == {OTHER_COLOR}
    assert [a.text for a in fig.layout.annotations] == ["rougeL", "length_error", "bleu"]
