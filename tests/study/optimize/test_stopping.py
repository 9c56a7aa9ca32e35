"""The stopping rules on seeded simulated studies whose answers are known.

A simulated trial scores each of 38 questions as the question's difficulty plus the trial's
true effect plus noise: where no trial is truly better the rules must stop, where one is much
better they must wait for it and then count from it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from optuna.distributions import FloatDistribution

from study.core.settings import StopSettings
from study.optimize.stopping import Finished, decide

QUESTIONS = 38


def simulate(effects: list[float], noise: float = 0.05, seed: int = 0, sign: float = 1.0) -> list[Finished]:
    """Trials with these true effects (x = the effect, the terminator's parameter); ``sign=-1``: a loss."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.3, 0.1, QUESTIONS)
    out = []
    for i, effect in enumerate(effects):
        scores = sign * (difficulty + effect + rng.normal(0, noise, QUESTIONS))
        out.append(Finished(i, float(scores.mean()), tuple(float(s) for s in scores), {"x": float(effect)},
                            {"x": FloatDistribution(-1.0, 1.0)}))
    return out


def test_patience_stops_a_study_where_no_trial_is_better_at_the_first_trial_it_may():
    trials = simulate([0.0] * 20)
    rule = StopSettings(rule="patience", min_trials=15, patience=10)
    assert not decide(trials[:14], True, rule).stop  # min_trials not reached
    decision = decide(trials[:15], True, rule)
    assert decision.stop and decision.finished == 15 and decision.estimate == 14.0
    assert decision.line().startswith("stopping after 15 trials: none of the last 14 finished trials beat the best")


def test_patience_waits_for_a_clear_improvement_and_counts_from_it():
    effects = [0.0] * 20 + [0.1] + [0.0] * 15
    rule = StopSettings(rule="patience", min_trials=15, patience=10)
    trials = simulate(effects)
    assert not decide(trials[:30], True, rule).stop  # 9 trials since trial 20
    decision = decide(trials[:31], True, rule)
    assert decision.stop and decision.best == 20 and decision.estimate == 10.0


def test_patience_reads_the_direction_of_a_minimised_objective():
    effects = [0.0] * 20 + [0.1] + [0.0] * 15
    trials = simulate(effects, sign=-1.0)  # lower is better; trial 20 is lowest by far
    rule = StopSettings(rule="patience", min_trials=15, patience=10)
    assert not decide(trials[:30], False, rule).stop
    assert decide(trials[:31], False, rule).best == 20
    assert decide(trials[:31], False, rule).stop


def test_a_measured_noise_floor_makes_a_small_but_significant_gain_not_count():
    trials = simulate([0.0] * 5 + [0.02] + [0.0] * 4, noise=0.002)  # +0.02, far outside its paired interval
    rule = StopSettings(rule="patience", min_trials=2, patience=3)
    assert not decide(trials[:8], True, rule).stop  # 2 trials since trial 5
    with_floor = decide(trials[:8], True, rule, floor=0.05)  # 0.02 is below the seed-to-seed noise
    assert with_floor.stop and "noise floor 0.05" in with_floor.reason


def test_small_steps_within_the_noise_add_up_to_an_improvement():
    effects = [0.006 * i for i in range(25)]  # each step is within the noise, ten steps are not
    trials = simulate(effects, noise=0.03, seed=1)
    decision = decide(trials, True, StopSettings(rule="patience", min_trials=10, patience=8))
    assert not decision.stop and decision.estimate < 8


def test_pruned_trials_count_as_finished_and_beat_nothing():
    trials = simulate([0.0] * 4)
    pruned = [Finished(n, None) for n in range(4, 8)]
    rule = StopSettings(rule="patience", min_trials=8, patience=7)
    assert decide(trials + pruned, True, rule).stop


def test_with_count_pruned_false_only_trials_with_a_value_count_toward_patience():
    valued = simulate([0.0] * 7)  # none beats the first by more than the noise
    pruned = [Finished(n, None) for n in range(7, 15)]
    trials = valued[:4] + pruned + valued[4:6]  # 5 valued trials and 8 pruned ones since the first
    every = StopSettings(rule="patience", min_trials=8, patience=6)
    assert decide(trials, True, every).stop  # 13 finished trials since the best
    valued_only = StopSettings(rule="patience", min_trials=8, patience=6, count_pruned=False)
    decision = decide(trials, True, valued_only)
    assert not decision.stop and decision.estimate == 5.0
    decision = decide(trials + valued[6:], True, valued_only)
    assert decision.stop and decision.estimate == 6.0 and "6 trials that finished with a value" in decision.reason


def test_without_per_question_scores_the_rule_never_stops_and_says_why():
    trials = [Finished(n, 0.5) for n in range(20)]
    decision = decide(trials, True, StopSettings(rule="patience", min_trials=5, patience=2))
    assert not decision.stop and "no per-question scores" in decision.reason


def test_terminator_stops_a_flat_study_and_goes_on_while_the_regret_may_exceed_the_noise():
    rng = np.random.default_rng(3)
    flat = simulate([float(x) * 0.0 for x in rng.uniform(-1, 1, 20)], noise=0.05)
    flat = [Finished(t.number, t.value, t.scores, {"x": float(x)}, t.distributions)
            for t, x in zip(flat, rng.uniform(-1, 1, 20))]
    rule = StopSettings(rule="terminator", min_trials=15)
    decision = decide(flat, True, rule)
    assert decision.stop and decision.estimate < decision.noise

    # a steep objective (effect = x, up to +1 at x = 1, not yet sampled near it) measured almost without noise
    steep = simulate([float(x) for x in rng.uniform(-1, 0.3, 20)], noise=0.001)
    decision = decide(steep, True, rule)
    assert not decision.stop and decision.estimate > decision.noise
    assert "not below the best's standard error over 38 questions" in decision.reason


def two_objectives(effects: list[tuple[float, float]], noise: float = 0.05, seed: int = 0) -> list[Finished]:
    """Trials with true effects on two objectives, both maximised; the first objective is the value."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.3, 0.1, (2, QUESTIONS))
    out = []
    for i, effect in enumerate(effects):
        a, b = (difficulty[k] + effect[k] + rng.normal(0, noise, QUESTIONS) for k in range(2))
        out.append(Finished(i, float(a.mean()), tuple(a.tolist()),
                            per_metric={"rougeL": tuple(a.tolist()), "bertscore_f1": tuple(b.tolist())}))
    return out


FRONT = {"rougeL": True, "bertscore_f1": True}


def test_on_the_front_a_trade_off_is_an_improvement_that_the_first_objective_alone_misses():
    # Trial 6 is much better on the second objective and worse on the first: a new point of the front.
    trials = two_objectives([(0.0, 0.0)] * 6 + [(-0.1, 0.3)] + [(0.0, 0.0)] * 13)
    first = StopSettings(rule="patience", min_trials=10, patience=8)
    front = replace(first, judge="front")
    assert decide(trials[:10], True, first, front=FRONT).stop  # 9 trials since trial 0 on the first objective
    assert not decide(trials[:14], True, front, front=FRONT).stop  # 7 trials since trial 6
    decision = decide(trials[:15], True, front, front=FRONT)
    assert decision.stop and decision.best == 6 and decision.estimate == 8.0
    assert "improved the Pareto front of rougeL, bertscore_f1" in decision.reason
    assert "the 2 earlier improvements, the last trial 6" in decision.reason


def test_on_the_front_a_trial_within_the_noise_or_dominated_improves_nothing():
    # Trial 3 is better on both objectives by less than the noise; trial 5 is worse on both.
    trials = two_objectives([(0.0, 0.0)] * 3 + [(0.002, 0.002), (0.0, 0.0), (-0.2, -0.2)] + [(0.0, 0.0)] * 6)
    decision = decide(trials, True, StopSettings(rule="patience", min_trials=5, patience=11, judge="front"),
                      front=FRONT)
    assert decision.stop and decision.best == 0 and decision.estimate == 11.0


def test_on_the_front_of_one_objective_the_rule_is_the_first_objectives():
    trials = [replace(t, per_metric={"rougeL": t.scores}) for t in simulate([0.0] * 12 + [0.15] + [0.0] * 17)]
    first = StopSettings(rule="patience", min_trials=10, patience=10)
    front = replace(first, judge="front")
    for n in (12, 13, 22, 23, 30):
        a, b = decide(trials[:n], True, first), decide(trials[:n], True, front, front={"rougeL": True})
        assert (a.stop, a.estimate) == (b.stop, b.estimate), n  # best: the best value there, the last improvement here


def test_objectives_without_per_question_scores_are_not_judged_and_the_terminator_judges_one():
    import pytest

    from search_spaces import check_stop
    from study.core.errors import StudyError
    from study.core.settings import StudySettings
    from study.optimize.stopping import judged_front

    trials = two_objectives([(0.0, 0.0)] * 3)
    objectives = [("rougeL", True), ("bertscore_f1", True), ("train_seconds", False)]
    assert judged_front(trials, objectives) == FRONT  # train_seconds has no per-question scores
    check_stop(StudySettings(stop=StopSettings(judge="front")))
    with pytest.raises(StudyError, match="judge 'front' works with rule 'patience', not 'terminator'"):
        check_stop(StudySettings(stop=StopSettings(rule="terminator", judge="front")))
