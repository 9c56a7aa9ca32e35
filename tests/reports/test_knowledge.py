"""The "Style or knowledge?" section on a seeded simulation of the knowledge grid with a known answer."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from objectives import Interval, difference_of_means
from reports._knowledge import NO_PROBES, figure, knowledge, table
from reports._rows import TrialRow


PROBES, QUIZ = 24, 40


def around(mean: float, n: int, seed: int, sd: float = 0.05) -> list[float]:
    """Per-question scores whose mean is ``mean``: each question off by its own amount, the trial's draw."""
    noise = np.random.default_rng(seed).normal(0, sd, n)
    return list(mean + noise - noise.mean())


def row(number: int, config: dict, gain: float, style: float, is_base: bool = False,
        forgetting: float | None = None, per_question: dict | None = None) -> TrialRow:
    metrics = {"knowledge_gain": gain, "length_error": style, "probe_unseen_rougeL": 0.2, "forgetting": forgetting}
    if per_question is None:  # as a trial stores them: one score per probe (and quiz question)
        per_question = {"knowledge_gain": around(gain, PROBES, number), "length_error": around(style, PROBES, 100 + number),
                        "probe_unseen_rougeL": around(0.2, PROBES, 200 + number)}
        if forgetting is not None:
            per_question["forgetting"] = around(forgetting, QUIZ, 300 + number)
    return TrialRow(number, "COMPLETE", (gain, style), {}, metrics, config, 1.0, None, None, is_base=is_base,
                    intervals={"knowledge_gain": Interval(gain, gain - 0.03, gain + 0.03, 24)},
                    per_question=per_question)


def grid_rows(seed: int = 0) -> list[TrialRow]:
    """The 2x2x2x2 grid where retrieval adds 0.20 to the gain, augmentation 0.10 where QA tuning runs (and
    nothing without it: no training questions to add to), QA tuning shortens answers, continued
    pre-training costs 0.10 of general-quiz accuracy, and the rest does nothing."""
    rng = np.random.default_rng(seed)
    rows = [row(0, {}, 0.0, 1.0, is_base=True)]
    for n, (tune, aug, pre, k) in enumerate(itertools.product((0, 3), (0, 2), (0, 1), (0, 2)), start=1):
        config = {"training": {"epochs": tune}, "data": {"augment": aug}, "pretraining": {"epochs": pre},
                  "retrieval": {"top_k": k}}
        gain = 0.20 * (k > 0) + 0.10 * (aug > 0 and tune > 0)
        rows.append(row(n, config, gain + rng.normal(0, 0.02), 1.0 - 0.5 * (tune > 0) + rng.normal(0, 0.05),
                        forgetting=0.10 * (pre > 0) + rng.normal(0, 0.02)))
    return rows


def test_each_remedy_is_compared_on_and_off_and_the_planted_effects_are_found():
    k = knowledge(grid_rows())
    effects = {e.remedy: e for e in k.effects}
    augmentation = effects.pop("paraphrase augmentation (with QA tuning)")
    assert all((e.n_on, e.n_off) == (8, 8) for e in effects.values()) and (augmentation.n_on, augmentation.n_off) == (4, 4)
    retrieval = effects["retrieval"].gain
    assert retrieval.contains(0.20) and retrieval.low > 0.12  # the planted +0.20
    # among the QA-tuned trials the planted +0.10, not the +0.05 an average over every trial would show
    assert augmentation.gain.contains(0.10) and augmentation.gain.low > 0
    # each effect is paired over the grid's cells that differ only in it: the others' effects cancel
    assert augmentation.pairs == 4 and all(e.pairs == 8 for e in effects.values())
    rows = grid_rows()[1:]
    on = [r.metrics["knowledge_gain"] for r in rows if r.config["retrieval"]["top_k"]]
    off = [r.metrics["knowledge_gain"] for r in rows if not r.config["retrieval"]["top_k"]]
    groups = difference_of_means(on, off)  # unpaired, the augmentation effect in its spread
    assert retrieval.high - retrieval.low < 0.7 * (groups.high - groups.low)
    assert effects["continued pre-training"].gain.contains(0.0)
    assert effects["QA tuning"].style.high < 0  # answers moved towards the references' length
    assert "retrieval raised knowledge of the trained facts" in k.reading
    assert "towards the references' length" in k.reading
    assert "paraphrase augmentation (with QA tuning) raised knowledge" in k.reading
    assert "(8 pairs of trials that differ only in it)" in k.reading
    assert effects["continued pre-training"].forgetting.low > 0.05
    assert "continued pre-training made no difference we can tell" in k.reading
    assert "it cost general-medicine accuracy (forgetting +0.1" in k.reading
    assert k.best.label.endswith("retrieval") and f"trial {k.best.number}" in k.reading
    assert k.points[0].label == "base model" and len(k.points) == 17


def test_the_section_renders_and_says_what_is_missing_without_probes():
    k = knowledge(grid_rows())
    assert figure(k).figure is not None
    html = table(k)
    assert "knowledge_gain: on − off" in html and "forgetting: on − off" in html and "raised knowledge" in html
    empty = knowledge([TrialRow(1, "COMPLETE", (0.3,), {}, {"rougeL": 0.3}, {}, 1.0, None, None)])
    assert empty.note == NO_PROBES and figure(empty).note == NO_PROBES and table(empty) is None


def test_without_trials_that_differ_in_one_remedy_only_the_groups_are_compared():
    # random search: no two trials share the other remedies' settings
    rows = [row(1, {"training": {"epochs": 3}, "retrieval": {"top_k": 2}}, 0.30, 0.5),
            row(2, {"training": {"epochs": 0}, "retrieval": {"top_k": 0}}, 0.00, 0.9),
            row(3, {"training": {"epochs": 3}, "retrieval": {"top_k": 0}, "pretraining": {"epochs": 1}}, 0.10, 0.5),
            row(4, {"training": {"epochs": 0}, "retrieval": {"top_k": 2}, "data": {"augment": 2}}, 0.20, 0.9)]
    retrieval = next(e for e in knowledge(rows).effects if e.remedy == "retrieval")
    assert retrieval.pairs == 0 and (retrieval.n_on, retrieval.n_off) == (2, 2)
    assert retrieval.gain.estimate == pytest.approx(0.20)  # (0.30 + 0.20) / 2 - (0.00 + 0.10) / 2
    assert "(2 trials with it, 2 without)" in knowledge(rows).reading


def test_a_group_of_one_is_not_compared_and_augmentation_without_qa_tuning_is_not_a_remedy_used():
    rows = [row(1, {"training": {"epochs": 3}, "data": {"augment": 2}}, 0.30, 0.5),
            row(2, {"training": {"epochs": 3}, "data": {"augment": 2}, "retrieval": {"top_k": 2}}, 0.20, 0.5),
            row(3, {"training": {"epochs": 3}, "retrieval": {"top_k": 2}, "pretraining": {"epochs": 1}}, 0.10, 0.5),
            row(4, {"data": {"augment": 2}}, 0.0, 0.9)]  # augmentation without QA tuning: the base model again
    k = knowledge(rows)
    augmentation = next(e for e in k.effects if e.remedy.startswith("paraphrase augmentation"))
    assert (augmentation.n_on, augmentation.n_off, augmentation.gain) == (2, 1, None)
    assert "paraphrase augmentation (with QA tuning): not compared (2 trials with it, 1 without: too few" in k.reading
    assert [p.label for p in k.points][-1] == "none (the untuned base model, again)"


def test_trials_that_moved_the_same_quiz_question_make_no_claim_of_forgetting():
    # QA tuning flips the same 1 quiz question of 40 in every tuned trial (a deterministic CPU path): each pair of
    # trials differs by exactly 0.025, so the trials alone give [+0.025, +0.025] and claim forgetting. One question
    # of 40 is within the quiz's own noise.
    rows = []
    for n, (tune, k) in enumerate(itertools.product((0, 3), (0, 2, 4)), start=1):
        config = {"training": {"epochs": tune}, "retrieval": {"top_k": k}}
        quiz = [1.0 if (tune and q == 7) else 0.0 for q in range(QUIZ)]
        rows.append(row(n, config, 0.1 * (tune > 0), 0.5, forgetting=sum(quiz) / QUIZ,
                        per_question={"knowledge_gain": around(0.1 * (tune > 0), PROBES, n), "forgetting": quiz}))
    tuning = next(e for e in knowledge(rows).effects if e.remedy == "QA tuning")
    assert tuning.pairs == 3 and tuning.forgetting.estimate == pytest.approx(0.025)
    assert tuning.forgetting.low < 0 < tuning.forgetting.high
    assert "did not measurably change general-medicine accuracy (forgetting +0.025" in knowledge(rows).reading


def test_a_measure_without_per_question_scores_is_shown_but_not_claimed():
    rows = grid_rows()
    bare = [TrialRow(r.number, r.state, r.values, r.params, r.metrics, r.config, r.duration_s, None, None,
                     is_base=r.is_base, intervals=r.intervals,
                     per_question={m: v for m, v in r.per_question.items() if m != "forgetting"}) for r in rows]
    k = knowledge(bare)
    pre = next(e for e in k.effects if e.remedy == "continued pre-training")
    assert pre.forgetting.low > 0.05 and pre.trials_only == {"forgetting"}  # shown: the trials' interval alone
    assert "it cost general-medicine accuracy" not in k.reading
    assert "(trials only)" in table(k)
    assert "quiz answers were not stored per question, so the quiz's own noise is unknown and no claim" in k.reading
