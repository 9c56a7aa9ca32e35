from __future__ import annotations

import math

import optuna
import pytest

from reports import study_data
from reports._analyses import Analyses
from reports._correlation import figure as correlation_figure
from reports._correlation import spearman


def _analyses(study: optuna.Study) -> Analyses:
    return study_data(study).analyses


def _rho(study: optuna.Study, a: str, b: str) -> float | None:
    c = _analyses(study).correlations
    return c.rho[c.metrics.index(a)][c.metrics.index(b)]


def test_spearman_gives_tied_values_their_mean_rank() -> None:
    # Ranks 1, 2.5, 2.5, 4 against 1, 2, 3, 4: Pearson of the ranks = 4.5 / sqrt(4.5 * 5).
    assert spearman([1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]) == pytest.approx(4.5 / (4.5 * 5) ** 0.5)
    assert spearman([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)


def test_spearman_is_none_for_two_pairs_or_a_constant_side() -> None:
    assert spearman([1.0, 2.0], [1.0, 2.0]) is None
    assert spearman([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) is None


def test_correlation_matches_the_rank_correlation_computed_by_hand(clinical_study: optuna.Study) -> None:
    # rougeL ranks 2, 1, 4, 3; bleu 1, 2, 3, 4; answer_words 4, 2, 1, 3 (see conftest).
    assert _rho(clinical_study, "rougeL", "bleu") == pytest.approx(0.6)
    assert _rho(clinical_study, "rougeL", "answer_words") == pytest.approx(1 - 6 * (4 + 1 + 9 + 0) / 60)
    assert _rho(clinical_study, "bleu", "rougeL") == _rho(clinical_study, "rougeL", "bleu")
    assert _rho(clinical_study, "bleu", "bleu") == pytest.approx(1.0)


def test_correlations_use_complete_trials_only(clinical_study: optuna.Study) -> None:
    # The pruned trial (rougeL 0.99, bleu 0.0) would pull rho(rougeL, bleu) below 0.6.
    assert _analyses(clinical_study).correlations.n_trials == 4


def test_correlations_put_objectives_first_and_name_constant_metrics(clinical_study: optuna.Study) -> None:
    c = _analyses(clinical_study).correlations
    assert c.metrics[:2] == ("rougeL", "length_error")
    assert set(c.metrics[2:]) == {"answer_words", "bleu", "forgetting", "general_accuracy"}
    assert "general_accuracy_base" not in c.metrics and "general_accuracy_base" in (c.note or "")


def test_correlations_need_three_complete_trials() -> None:
    study = optuna.create_study(directions=["maximize"])
    for v in (0.1, 0.2):
        study.add_trial(optuna.trial.create_trial(values=[v], user_attrs={"metrics": {"a": v, "b": -v}}))
    c = study_data(study).analyses.correlations
    assert c.metrics == () and c.rho == ()
    assert "at least 3 COMPLETE trials" in (c.note or "") and "has 2" in (c.note or "")


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
