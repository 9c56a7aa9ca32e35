from __future__ import annotations

import optuna
import pytest

from reports import study_data
from reports._analysis import (
    PRETRAIN_OFF,
    PRETRAIN_ON,
    Analyses,
    held_out_scores,
    human_evaluation,
    spearman,
)
from reports._data import ObjectiveInfo


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


def test_held_out_rows_put_the_base_model_first_then_trials_by_number(clinical_study: optuna.Study) -> None:
    h = _analyses(clinical_study).held_out
    assert [(r.label, r.number) for r in h.rows] == [("base model", None), ("trial 2", 2), ("trial 3", 3)]
    assert h.metrics == ("rougeL", "length_error", "bleu")
    assert h.rows[1].scores["rougeL"] == 0.38 and h.note is None


def test_held_out_gains_are_differences_to_the_base_model(clinical_study: optuna.Study) -> None:
    base, trial_2, trial_3 = _analyses(clinical_study).held_out.rows
    assert base.gains == {}
    assert trial_2.gains["rougeL"] == pytest.approx(0.28)
    assert trial_3.gains["length_error"] == pytest.approx(-0.45)


def test_held_out_is_a_note_without_test_scores(study: optuna.Study) -> None:
    h = _analyses(study).held_out
    assert h.rows == () and "python -m study.export" in (h.note or "")


def test_held_out_without_the_base_model_shows_trials_without_gains() -> None:
    h = held_out_scores({"4": {"rougeL": 0.3}}, (ObjectiveInfo("rougeL", "maximize"),))
    assert [r.label for r in h.rows] == ["trial 4"] and h.rows[0].gains == {}
    assert "base model was not scored" in (h.note or "")


def test_forgetting_plots_complete_trials_against_the_base_accuracy(clinical_study: optuna.Study) -> None:
    f = _analyses(clinical_study).forgetting
    assert f.x_metric == "rougeL" and f.base_accuracy == pytest.approx(0.75)
    assert [(p.number, p.x, p.y) for p in f.points] == [(0, 0.30, 0.70), (1, 0.20, 0.72), (2, 0.40, 0.60),
                                                        (3, 0.35, 0.65)]
    assert f.points[1].params == {"lora.rank": 8} and f.note is None


def test_forgetting_is_a_note_when_no_trial_took_the_quiz(study: optuna.Study) -> None:
    f = _analyses(study).forgetting
    assert f.points == () and f.base_accuracy is None
    assert "general_accuracy" in (f.note or "")


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


def test_length_tradeoff_uses_the_length_objective_and_answer_styles(clinical_study: optuna.Study) -> None:
    lengths = _analyses(clinical_study).lengths
    assert (lengths.x_metric, lengths.y_metric) == ("rougeL", "length_error")
    assert [(p.number, p.y, p.group) for p in lengths.points] == [
        (0, 0.50, "none"), (1, 0.30, "concise"), (2, 0.20, "one_sentence"), (3, 0.40, "concise"),
    ]


def test_length_tradeoff_prefers_answer_words_and_has_no_groups_without_styles() -> None:
    study = optuna.create_study(directions=["maximize"])
    for v in (0.1, 0.2):
        study.add_trial(optuna.trial.create_trial(values=[v], user_attrs={
            "metrics": {"rougeL": v, "answer_words": 10 * v, "length_error": v}, "config": {"data": {}}}))
    lengths = study_data(study).analyses.lengths
    assert lengths.y_metric == "answer_words"
    assert [(p.y, p.group) for p in lengths.points] == [(1.0, None), (2.0, None)]


def test_length_tradeoff_is_a_note_without_length_metrics(study: optuna.Study) -> None:
    lengths = _analyses(study).lengths
    assert lengths.y_metric is None and lengths.points == ()
    assert "answer_words or length_error" in (lengths.note or "")


def test_human_rows_pair_ratings_with_objectives_best_first(clinical_study: optuna.Study) -> None:
    h = _analyses(clinical_study).human
    assert h.objectives == ("rougeL", "length_error")
    assert [(r.number, r.mean_rating, r.n) for r in h.rows] == [(2, 4.2, 20), (3, 3.9, 18), (0, 3.1, 20)]
    assert h.rows[0].metrics == {"rougeL": 0.40, "length_error": 0.20}


def test_human_agreement_lists_objectives_first(clinical_study: optuna.Study) -> None:
    h = _analyses(clinical_study).human
    assert list(h.agreement.items()) == [("rougeL", 1.0), ("length_error", -0.5), ("bleu", None)]
    assert h.note is None


def test_human_evaluation_is_a_note_without_ratings(study: optuna.Study) -> None:
    h = _analyses(study).human
    assert h.rows == () and h.agreement == {}
    assert "python -m study.human_eval" in (h.note or "")


def test_human_agreement_of_too_few_trials_gets_a_note() -> None:
    h = human_evaluation({"0": {"mean_rating": 4.0, "n": 5}}, {"rougeL": None}, (), ())
    assert [r.number for r in h.rows] == [0] and h.rows[0].metrics == {}
    assert "at least 3 trials" in (h.note or "")


def test_human_ratings_without_agreement_get_a_note() -> None:
    h = human_evaluation({"0": {"mean_rating": 4.0, "n": 5}}, None, (), ())
    assert h.agreement == {} and "no agreement" in (h.note or "")


def test_analyses_of_a_study_without_trials_are_all_notes() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    a = study_data(study).analyses
    for part in (a.correlations, a.held_out, a.forgetting, a.pretraining, a.lengths, a.human):
        assert part.note
