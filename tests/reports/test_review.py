"""The report's clinicians' review section: shares with intervals per arm, and the metrics against the raters."""

from __future__ import annotations

import optuna
import pytest

from reports import study_data
from reports._review import NO_DATA, figure


def test_review_figure_draws_shares_with_their_intervals_and_the_metric_ranking(clinical_study: optuna.Study) -> None:
    block = figure(study_data(clinical_study).analyses.review)
    correct, harmful, metrics = block.figure.data
    assert list(correct.y) == ["trial 2", "base"] and list(correct.x) == [0.6, 0.3]
    assert list(correct.error_x.array) == pytest.approx([0.18, 0.22])  # high - estimate
    assert list(correct.error_x.arrayminus) == pytest.approx([0.21, 0.15])
    assert list(harmful.x) == [0.05, 0.1]
    assert list(metrics.y) == ["bleu", "rougeL"]  # best-agreeing on top


def test_review_figure_without_a_review_is_a_note(study: optuna.Study) -> None:
    block = figure(study_data(study).analyses.review)
    assert block.figure is None and block.note == NO_DATA
