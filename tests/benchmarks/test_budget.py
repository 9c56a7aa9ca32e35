"""benchmarks.budget: what a rule saves and keeps, on simulated studies with known answers, and its quick mode."""

from __future__ import annotations

import json

import numpy as np

import pytest

from benchmarks._budget_eval import outcome, summary
from benchmarks._budget_sim import ScoreModel, simulate_study
from search_spaces import load_space
from study.core.settings import StopSettings

PATIENCE = StopSettings(rule="patience", min_trials=15, patience=10)


def run(scale: float, seed: int = 0, answer_sd: float = 0.065, seed_sd: float = 0.02):
    model = ScoreModel(effect_scale=scale, answer_sd=answer_sd, seed_sd=seed_sd, prune=False)
    study = simulate_study(load_space("default"), 40, seed, model)
    return outcome("patience", PATIENCE, [t.finished for t in study], [t.seconds for t in study],
                   lambda i: study[i].test, effects=[t.effect for t in study])


def test_where_no_configuration_is_better_the_rule_stops_early_and_loses_nothing():
    out = run(scale=0.0)
    assert out.stopped_at < 25 and out.share < 0.65
    assert out.true_loss == 0.0  # every configuration is as good as any other


def test_a_rule_that_stops_before_a_clearly_better_last_trial_is_told_apart_on_the_test_split():
    from study.optimize.stop_rules import Finished

    rng = np.random.default_rng(0)
    test = rng.normal(0.3, 0.05, (20, 38))
    test[19] += 0.2  # the last trial's configuration is truly better by 0.2
    trials = [Finished(i, float(test[i].mean()), tuple(test[i])) for i in range(20)]
    effects = [0.0] * 19 + [0.2]
    out = outcome("patience", PATIENCE, trials, [1.0] * 20, lambda i: list(test[i]), effects=effects)
    assert out.stopped_at == 15 and out.share == 0.75 and not out.same_choice
    assert not out.indistinguishable and out.difference[2] < 0 and out.true_loss == 0.2


def test_a_fixed_budget_stops_there_and_the_same_choice_is_indistinguishable():
    study = simulate_study(load_space("default"), 20, 1)
    trials, seconds = [t.finished for t in study], [t.seconds for t in study]
    everything = outcome("all", 20, trials, seconds, lambda i: study[i].test)
    assert everything.stopped_at == 20 and everything.share == 1.0 and everything.same_choice
    assert everything.indistinguishable and everything.difference == (0.0, 0.0, 0.0)
    half = outcome("half", 10, trials, seconds, lambda i: study[i].test)
    assert half.share == pytest.approx(sum(seconds[:10]) / sum(seconds))


def test_the_simulated_median_pruner_prunes_weak_trials_at_a_quarter_of_their_seconds():
    from benchmarks._budget_sim import seconds

    space = load_space("default")
    pruned_model = ScoreModel(effect_scale=3.0)
    study = simulate_study(space, 40, 2, pruned_model)
    unpruned = simulate_study(space, 40, 2, ScoreModel(effect_scale=3.0, prune=False))
    pruned = [t for t in study if t.finished.value is None]
    assert 0.25 * 40 <= len(pruned) <= 0.75 * 40  # about half: below the running median at the first check
    assert all(t.finished.value is not None for t in study[:pruned_model.startup])
    assert all(t.finished.scores is None for t in pruned)
    kept, cut = np.mean([t.effect for t in study if t.finished.value is not None]), np.mean([t.effect for t in pruned])
    assert kept > cut  # the pruner's check sees the true effect through its noise
    first = pruned[0]  # the same configuration as in the unpruned study up to the first pruned trial
    number = first.finished.number
    assert first.seconds == pytest.approx(pruned_model.pruned_cost * unpruned[number].seconds)
    assert unpruned[number].seconds == pytest.approx(seconds(space.config(dict(first.finished.params))))


def test_a_real_trial_costs_its_cpu_seconds_where_every_trial_has_them_else_its_wall_clock_seconds():
    from datetime import datetime, timedelta
    from types import SimpleNamespace

    from benchmarks._budget_real import trial_seconds

    t0 = datetime(2026, 12, 7, 12, 0, 0)

    def trial(wall: float, cpu: float | None) -> SimpleNamespace:
        attrs = {} if cpu is None else {"cpu_seconds": cpu}
        return SimpleNamespace(datetime_start=t0, datetime_complete=t0 + timedelta(seconds=wall), user_attrs=attrs)

    assert trial_seconds([trial(90.0, 40.0), trial(20.0, 10.0)]) == [40.0, 10.0]
    assert trial_seconds([trial(90.0, 40.0), trial(20.0, None)]) == [90.0, 20.0]  # a study from before: wall


def test_the_summary_gives_intervals_of_the_share_and_of_the_indistinguishable_share():
    outs = [run(scale=0.0, seed=s) for s in range(3)]
    figures = summary(outs)
    low, high = figures["share_ci95"]
    assert low <= figures["share_of_trial_seconds"] <= high
    assert figures["indistinguishable"] <= 3 and 0.0 <= figures["indistinguishable_ci95"][0] <= 1.0


@pytest.mark.slow
def test_the_quick_mode_runs_real_studies_on_both_spaces_and_reports(capsys, tmp_path, monkeypatch, tiny_model_dir):
    from benchmarks.budget import main

    keep = str(tmp_path / "kept")
    quick = ["--quick", "--threads", "1", "--keep", keep, "--model", str(tiny_model_dir)]
    assert main([*quick, "--studies-only", "informed"]) == 0
    assert "RESULT " not in capsys.readouterr().out  # the studies only: nothing compared yet
    assert main(quick) == 0
    out, err = capsys.readouterr()
    assert "informed, seed 0: 0 of 5 trials" in err  # the kept study is read, not run again
    assert "default, seed 0: 5 of 5 trials" in err
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    assert result["mode"] == "quick" and set(result["rules"]) == {"patience K=2", "fixed half"}
    assert result["rules"]["patience K=2"]["studies"] == 2  # one seed, two spaces
    assert len(result["versus"]) == 1 and result["versus"][0]["informed_seconds"] > 0
    kept = {space: json.loads((tmp_path / "kept" / f"{space}-0-test.json").read_text())
            for space in ("informed", "default")}
    assert all(kept.values()), kept  # the re-trained configurations' test scores, by trial number

    # Compared again: the kept test scores are read, no configuration is trained again.
    import study.finetune.trial

    def no_training(*args, **kwargs):
        raise AssertionError("a configuration was trained again")

    monkeypatch.setattr(study.finetune.trial, "run_trial", no_training)
    assert main(quick) == 0
    again = json.loads(next(x for x in capsys.readouterr().out.splitlines() if x.startswith("RESULT "))[len("RESULT "):])
    assert again["versus"][0]["test_difference"] == result["versus"][0]["test_difference"]

    # One space alone (--wide none): its rules, no comparison of spaces; still nothing trained again.
    assert main([*quick, "--space", "default", "--wide", "none"]) == 0
    alone = json.loads(next(x for x in capsys.readouterr().out.splitlines() if x.startswith("RESULT "))[len("RESULT "):])
    assert alone["rules"]["patience K=2"]["studies"] == 1 and alone["versus"] == []
