from __future__ import annotations

import optuna

from reports import study_data
from reports._intermediate import figure as intermediate_figure


def test_intermediate_series_include_the_pruned_trial(study: optuna.Study) -> None:
    series = {s.number: s for s in study_data(study).series}
    assert series[4].state == "PRUNED"
    assert (series[4].steps, series[4].values) == ((1, 2), (3.5, 3.6))
    assert set(series) == {0, 1, 2, 3, 4}  # the failed trial reported nothing


def test_intermediate_series_fall_back_to_the_pruning_study() -> None:
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(study_name="s", storage=storage, directions=["maximize", "minimize"])
    pruning = optuna.create_study(study_name="s.pruning", storage=storage)
    twin = pruning.ask()
    twin.report(2.5, 1)
    trial = study.ask()
    trial.set_user_attr("pruning_twin", twin.number)
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    assert study_data(study).series == ()
    assert [(s.number, s.steps, s.values) for s in study_data(study, pruning).series] == [(0, (1,), (2.5,))]


def test_intermediate_figure_dashes_the_pruned_trial(study: optuna.Study) -> None:
    fig = intermediate_figure(study_data(study)).figure
    pruned = [t for t in fig.data if t.name == "PRUNED"]
    complete = [t for t in fig.data if t.name == "COMPLETE"]
    assert len(pruned) == 1 and len(complete) == 4
    assert pruned[0].line.dash == "dash" and tuple(pruned[0].y) == (3.5, 3.6)
    assert {t.line.dash for t in complete} == {"solid"}
    assert fig.layout.yaxis.title.text == "eval_loss"
