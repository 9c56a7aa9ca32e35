from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from study.finetune.evaluation import Evaluation
from study.optimize.pruning import TrialPruning, pruning_study


def multi_objective_study(tmp_path, pruner: str, metric: str = "eval_loss"):
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(study_name="s", storage=url, directions=["maximize", "minimize"])
    twin, objective = pruning_study(study, url, pruner, metric)
    return study, twin, objective


def loss_evaluation(loss: float) -> Evaluation:
    return Evaluation({"eval_loss": loss}, [])


def run_fake_trial(study, twin, objective, losses, final=(0.5, 1.0)):
    trial = study.ask()
    monitor = TrialPruning(trial, twin, objective)
    for epoch, loss in enumerate(losses, start=1):
        if monitor.after_check(epoch, loss_evaluation(loss)):
            study.tell(trial, state=TrialState.PRUNED)
            monitor.pruned()
            return trial.number, True
    study.tell(trial, list(final))
    monitor.complete(losses[-1])
    return trial.number, False


def test_median_pruner_prunes_a_weak_trial_in_a_multi_objective_study(tmp_path):
    study, twin, objective = multi_objective_study(tmp_path, "median")
    for _ in range(4):
        assert run_fake_trial(study, twin, objective, [1.0, 0.8, 0.6]) == (_, False)
    number, pruned = run_fake_trial(study, twin, objective, [5.0, 4.0, 3.0])
    assert pruned
    frozen = study.trials[number]
    assert frozen.state == TrialState.PRUNED
    assert twin.trials[number].intermediate_values == {1: 5.0}
    assert twin.trials[number].state == TrialState.PRUNED
    assert twin.trials[number].user_attrs["trial_number"] == number
    # a good trial after it goes through
    assert run_fake_trial(study, twin, objective, [0.9, 0.7, 0.5])[1] is False


@pytest.mark.parametrize("pruner", ["successive_halving", "hyperband"])
def test_rung_based_pruners_work_on_the_twin_study(tmp_path, pruner):
    study, twin, objective = multi_objective_study(tmp_path, pruner)
    outcomes = [run_fake_trial(study, twin, objective, [1.0 + 0.1 * i, 0.9, 0.8])[1] for i in range(8)]
    outcomes += [run_fake_trial(study, twin, objective, [9.0, 9.0, 9.0])[1] for _ in range(4)]
    assert any(outcomes[8:]), "a clearly worse trial should be pruned at some rung"
    assert len(study.trials) == len(twin.trials) == 12


def test_wilcoxon_prunes_on_per_question_scores(tmp_path):
    study, twin, objective = multi_objective_study(tmp_path, "wilcoxon", metric="rougeL")
    good = [0.8, 0.7, 0.9, 0.85, 0.75, 0.8, 0.9, 0.7, 0.8, 0.85, 0.9, 0.7]
    trial = study.ask()
    monitor = TrialPruning(trial, twin, objective)
    for first in range(0, 12, 4):
        assert not monitor.after_chunk(first, Evaluation({}, [], {"rougeL": good[first:first + 4]}))
    study.tell(trial, [0.8, 1.0])
    monitor.complete(0.8)
    bad = study.ask()
    monitor = TrialPruning(bad, twin, objective)
    decisions = [monitor.after_chunk(first, Evaluation({}, [], {"rougeL": [0.1] * 4})) for first in range(0, 12, 4)]
    assert decisions[-1] is True
    assert list(twin.trials[bad.number].intermediate_values) == list(range(12))


@pytest.mark.parametrize("sampler", ["tpe", "nsga2", "gp", "random"])
def test_samplers_keep_proposing_after_pruned_trials_in_a_multi_objective_study(tmp_path, sampler):
    from study.optimize.samplers import make_sampler

    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(study_name="s", storage=url, directions=["maximize", "minimize"],
                                sampler=make_sampler(sampler, 0))
    twin, objective = pruning_study(study, url, "median", "eval_loss")
    for i in range(12):
        trial = study.ask()
        x = trial.suggest_float("x", 0.0, 1.0)
        monitor = TrialPruning(trial, twin, objective)
        if i % 3 == 2:
            monitor.after_check(1, loss_evaluation(9.0))
            study.tell(trial, state=TrialState.PRUNED)
            monitor.pruned()
        else:
            monitor.after_check(1, loss_evaluation(x))
            study.tell(trial, [x, 1 - x])
            monitor.complete(x)
    assert sum(t.state == TrialState.PRUNED for t in study.trials) == 4
