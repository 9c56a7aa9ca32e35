from __future__ import annotations

import optuna

from reports import build_figures, study_data


def test_build_figures_gives_the_study_figures_then_the_analyses_in_order(study: optuna.Study) -> None:
    keys = [b.key for b in build_figures(study_data(study))]
    assert keys == ["pareto", "history", "importance", "parallel", "intermediate", "stopping",
                    "proxy", "vs-base", "confirmation", "correlation", "test", "forgetting", "pretraining", "knowledge", "length", "review",
                    "privacy"]


def test_figures_without_complete_trials_are_notes_not_errors() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    blocks = build_figures(study_data(study))
    assert all(b.figure is None and b.note for b in blocks)
