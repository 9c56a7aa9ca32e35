from __future__ import annotations

import math

import optuna
import pytest

from reports import study_data
from reports._analysis_figures import (
    analysis_figures,
    correlation_figure,
    forgetting_figure,
    held_out_figure,
    human_figure,
    length_figure,
    pretraining_figure,
)
from reports._block import OTHER_COLOR


def test_correlation_heatmap_is_symmetric_with_ones_on_the_diagonal(clinical_study: optuna.Study) -> None:
    c = study_data(clinical_study).analyses.correlations
    heatmap = correlation_figure(c).figure.data[0]
    assert heatmap.type == "heatmap" and list(heatmap.x) == list(heatmap.y) == list(c.metrics)
    z = [list(row) for row in heatmap.z]
    assert all(z[i][i] == pytest.approx(1.0) for i in range(len(z)))
    assert all(z[i][j] == pytest.approx(z[j][i]) for i in range(len(z)) for j in range(len(z)))
    assert (heatmap.zmin, heatmap.zmax) == (-1, 1)


def test_correlation_heatmap_leaves_pairs_without_a_rho_blank() -> None:
    # "b" is recorded by trials 0-2 and "c" by trials 3-5: no trial holds both.
    study = optuna.create_study(directions=["maximize"])
    for i in range(6):
        metrics = {"a": float(i), ("b" if i < 3 else "c"): float(i % 3)}
        study.add_trial(optuna.trial.create_trial(values=[float(i)], user_attrs={"metrics": metrics}))
    c = study_data(study).analyses.correlations
    assert c.metrics == ("a", "b", "c") and c.rho[1][2] is None
    z = correlation_figure(c).figure.data[0].z
    assert math.isnan(z[1][2]) and z[0][1] == pytest.approx(1.0)


def test_held_out_figure_has_one_bar_chart_per_metric_with_the_base_model_grey(clinical_study: optuna.Study) -> None:
    fig = held_out_figure(study_data(clinical_study).analyses.held_out).figure
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 3 * 3  # (base model, trial 2, trial 3) x (rougeL, length_error, bleu)
    base = [t for t in bars if t.name == "base model"]
    assert [t.y[0] for t in base] == [0.10, 0.90, 0.02]
    assert {t.marker.color for t in base} == {OTHER_COLOR}
    assert [a.text for a in fig.layout.annotations] == ["rougeL", "length_error", "bleu"]


def test_forgetting_figure_draws_the_base_accuracy_and_hovers_trials(clinical_study: optuna.Study) -> None:
    fig = forgetting_figure(study_data(clinical_study).analyses.forgetting).figure
    scatter = fig.data[0]
    assert list(zip(scatter.x, scatter.y)) == [(0.30, 0.70), (0.20, 0.72), (0.40, 0.60), (0.35, 0.65)]
    assert "trial 1" in scatter.text[1] and "lora.rank: 8" in scatter.text[1]
    assert fig.layout.shapes[0].y0 == pytest.approx(0.75) == fig.layout.shapes[0].y1
    assert fig.layout.xaxis.title.text == "rougeL"


def test_pretraining_figure_has_a_box_per_group_and_objective(clinical_study: optuna.Study) -> None:
    fig = pretraining_figure(study_data(clinical_study).analyses.pretraining).figure
    boxes = [(t.name, tuple(t.y)) for t in fig.data if t.type == "box"]
    assert boxes == [
        ("off (epochs = 0)", (0.30, 0.40)), ("on (epochs > 0)", (0.20, 0.35)),
        ("off (epochs = 0)", (0.50, 0.20)), ("on (epochs > 0)", (0.30, 0.40)),
    ]


def test_length_figure_colours_trials_by_answer_style(clinical_study: optuna.Study) -> None:
    fig = length_figure(study_data(clinical_study).analyses.lengths).figure
    traces = {t.name: list(zip(t.x, t.y)) for t in fig.data}
    assert traces == {
        "answer_style concise": [(0.20, 0.30), (0.35, 0.40)],
        "answer_style none": [(0.30, 0.50)],
        "answer_style one_sentence": [(0.40, 0.20)],
    }
    assert fig.layout.yaxis.title.text == "length_error"


def test_human_figure_shows_the_agreement_of_each_metric(clinical_study: optuna.Study) -> None:
    bar = human_figure(study_data(clinical_study).analyses.human).figure.data[0]
    assert dict(zip(bar.y, bar.x)) == {"rougeL": 1.0, "length_error": -0.5}  # bleu has no rho


def test_analysis_figures_of_the_heart_study_are_mostly_notes(study: optuna.Study) -> None:
    blocks = {b.key: b for b in analysis_figures(study_data(study).analyses)}
    assert blocks["correlation"].figure is not None  # four complete trials with metrics
    assert blocks["pretraining"].figure is not None and "nothing to compare" in (blocks["pretraining"].note or "")
    for key in ("test", "forgetting", "length", "human"):
        assert blocks[key].figure is None and blocks[key].note
