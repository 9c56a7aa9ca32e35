from __future__ import annotations

import optuna

from reports import study_data
from reports._analyses import analysis_figures


def test_analyses_of_a_study_without_trials_are_all_notes() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    a = study_data(study).analyses
    for part in (a.correlations, a.held_out, a.forgetting, a.pretraining, a.lengths, a.review):
        assert part.note


def test_analysis_figures_of_the_heart_study_are_mostly_notes(study: optuna.Study) -> None:
    blocks = {b.key: b for b in analysis_figures(study_data(study).analyses)}
    assert blocks["correlation"].figure is not None  # four complete trials with metrics
    assert blocks["pretraining"].figure is not None and "nothing to compare" in (blocks["pretraining"].note or "")
    for key in ("test", "forgetting", "length", "review"):
        assert blocks[key].figure is None and blocks[key].note
