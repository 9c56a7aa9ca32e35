from __future__ import annotations

import optuna
import pytest

from reports import study_data
from reports._analyses import Analyses
from reports._pretraining import PRETRAIN_OFF, PRETRAIN_ON
from reports._pretraining import figure as pretraining_figure


def _analyses(study: optuna.Study) -> Analyses:
    return study_data(study).analyses


def test_pretraining_splits_trials_by_epochs(clinical_study: optuna.Study) -> None:
    p = _analyses(clinical_study).pretraining
    rouge, length = p.comparisons
    assert rouge.objective.metric == "rougeL" and length.objective.metric == "length_error"
    off, on = rouge.groups
    assert (off.label, off.numbers, off.values) == (PRETRAIN_OFF, (0, 2), (0.30, 0.40))
    assert (on.label, on.numbers, on.values) == (PRETRAIN_ON, (1, 3), (0.20, 0.35))
    assert p.note is None


def test_pretraining_best_follows_each_objective_direction(clinical_study: optuna.Study) -> None:
    rouge, length = _analyses(clinical_study).pretraining.comparisons
    assert [(g.mean, g.best) for g in rouge.groups] == [pytest.approx((0.35, 0.40)), pytest.approx((0.275, 0.35))]
    assert [g.best for g in length.groups] == [0.20, 0.30]  # length_error is minimised


def test_pretraining_notes_a_single_group(study: optuna.Study) -> None:
    # The heart study's configs have no pretraining section: the default, 0 epochs.
    p = _analyses(study).pretraining
    assert all(len(c.groups) == 1 and c.groups[0].label == PRETRAIN_OFF for c in p.comparisons)
    assert p.comparisons[0].groups[0].numbers == (0, 1, 2, 3)
    assert "nothing to compare" in (p.note or "")


def test_pretraining_leaves_out_trials_without_a_config() -> None:
    study = optuna.create_study(directions=["maximize"])
    study.add_trial(optuna.trial.create_trial(values=[0.1], user_attrs={"config": {"pretraining": {"epochs": 2}}}))
    study.add_trial(optuna.trial.create_trial(values=[0.2]))
    p = study_data(study).analyses.pretraining
    assert [g.numbers for g in p.comparisons[0].groups] == [(0,)]
    assert "1 trials without a recorded config" in (p.note or "")


def test_pretraining_figure_has_a_box_per_group_and_objective(clinical_study: optuna.Study) -> None:
    fig = pretraining_figure(study_data(clinical_study).analyses.pretraining).figure
    boxes = [(t.name, tuple(t.y)) for t in fig.data if t.type == "box"]
    assert boxes == [
        ("off (epochs = 0)", (0.30, 0.40)), ("on (epochs > 0)", (0.20, 0.35)),
        ("off (epochs = 0)", (0.50, 0.20)), ("on (epochs > 0)", (0.30, 0.40)),
    ]
