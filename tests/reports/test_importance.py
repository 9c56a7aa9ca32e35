from __future__ import annotations

import numpy as np
import optuna

from reports import build_figures, study_data
from reports._importance import MIN_TRIALS_FOR_IMPORTANCE, param_importances
from reports._rows import ObjectiveInfo


def test_importances_give_a_note_when_too_few_trials(study: optuna.Study) -> None:
    importances = study_data(study).importances
    assert len(importances) == 3
    assert all(not i.importances and "at least" in (i.note or "") for i in importances)


def _study_where_x_matters(n_trials: int) -> optuna.Study:
    rng = np.random.default_rng(0)
    study = optuna.create_study(directions=["maximize", "minimize"])
    dists = {"x": optuna.distributions.FloatDistribution(0.0, 1.0),
             "noise": optuna.distributions.FloatDistribution(0.0, 1.0)}
    for x, noise in rng.uniform(size=(n_trials, 2)):
        study.add_trial(optuna.trial.create_trial(
            params={"x": float(x), "noise": float(noise)}, distributions=dists,
            values=[float(x), float(x) + 0.01 * float(noise)],
        ))
    return study


def test_importances_rank_the_parameter_that_sets_the_objective_first() -> None:
    study = _study_where_x_matters(2 * MIN_TRIALS_FOR_IMPORTANCE)
    objectives = (ObjectiveInfo("a", "maximize"), ObjectiveInfo("b", "minimize"))
    for importance in param_importances(study, objectives):
        assert importance.note is None
        assert importance.importances["x"] > importance.importances["noise"]


def test_importances_follow_the_direction_of_each_objective() -> None:
    # PED-ANOVA favours low targets; maximised objectives are negated. Trials that are best for
    # "a" (high x) all have noise < 0.5, so noise matters for maximising and not for minimising.
    study = optuna.create_study(directions=["maximize"])
    dists = {"x": optuna.distributions.FloatDistribution(0.0, 1.0),
             "noise": optuna.distributions.FloatDistribution(0.0, 1.0)}
    rng = np.random.default_rng(1)
    n_trials = 2 * MIN_TRIALS_FOR_IMPORTANCE
    for i in range(n_trials):
        x = i / n_trials
        noise = rng.uniform(0.0, 0.1) if x > 0.8 else rng.uniform(0.0, 1.0)
        study.add_trial(optuna.trial.create_trial(params={"x": x, "noise": float(noise)}, distributions=dists,
                                                  values=[x]))
    as_max = param_importances(study, (ObjectiveInfo("a", "maximize"),))[0].importances
    as_min = param_importances(study, (ObjectiveInfo("a", "minimize"),))[0].importances
    assert as_max["noise"] > as_min["noise"]


def test_importance_block_is_a_note_when_too_few_trials(study: optuna.Study) -> None:
    block = next(b for b in build_figures(study_data(study)) if b.key == "importance")
    assert block.figure is None
    assert "at least" in (block.note or "")


def test_importance_figure_has_one_bar_chart_per_objective() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), n_trials=30)
    block = next(b for b in build_figures(study_data(study)) if b.key == "importance")
    assert block.note is None
    bars = [t for t in block.figure.data if t.type == "bar"]
    assert len(bars) == 2 and all(set(b.y) == {"x", "y"} for b in bars)
