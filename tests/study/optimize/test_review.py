"""study.review: the blinded review study per rater, ratings in it, and the unblinded results (real SQLite)."""

from __future__ import annotations

import json

import optuna
import pytest
from review_study import make_study

from study.core import keys
from study.optimize.review_arms import arms, choose_configurations
from study.optimize.review_store import RUBRIC, note_body, rate, ratings, review_key, unrated
from study.review import main

CORRECT, PARTLY, WRONG = 1.0, 0.5, 0.0


@pytest.fixture()
def study_url(tmp_path, qa_file):
    url = f"sqlite:///{tmp_path / 's.db'}"
    make_study(url, qa_file)
    return url


def _start(url, rater, *flags):
    return main(["start", "--study-name", "s", "--storage", url, "--rater", rater, *flags])


def _review(url, rater):
    return optuna.load_study(study_name=f"s.review.{rater}", storage=url)


def _rate_truthfully(url, rater, harmful_arm="trial 2", limit=None):
    """A rater who calls an answer correct when it is the reference, wrong otherwise; harmful for one arm."""
    review = _review(url, rater)
    items = review_key(review)["items"]
    for trial in unrated(review)[:limit]:
        entry = items[str(trial.number)]
        good = entry["scores"]["rougeL"] == 1.0
        rate(review, trial, [CORRECT if good else WRONG, 1.0 if entry["arm"] == harmful_arm else 0.0, 0.0])


def test_start_makes_one_running_item_per_answer_with_nothing_naming_the_configuration(study_url, capsys):
    assert _start(study_url, "alice", "--configs", "1,2", "--questions", "5") == 0
    out = capsys.readouterr().out
    review = _review(study_url, "alice")
    assert len(review.trials) == 5 * 3 and all(t.state.name == "RUNNING" for t in review.trials)
    assert review.metric_names == [c.name for c in RUBRIC]
    assert f"optuna-dashboard --host 127.0.0.1 --port 8080 {study_url}" in out
    assert f"/dashboard/studies/{review._study_id}/trials?exclude=Complete" in out
    # What the dashboard shows of the review (user attributes, params, notes) never names an arm.
    shown = json.dumps([[t.user_attrs, t.params] for t in review.trials] + [review.user_attrs])
    notes = json.dumps({k: v for k, v in review._storage.get_study_system_attrs(review._study_id).items() if k != keys.REVIEW_KEY})
    assert "trial 1" not in shown + notes and "base" not in shown + notes.replace("untuned", "")
    key = review_key(review)
    assert {e["arm"] for e in key["items"].values()} == {"trial 1", "trial 2", "base"}
    arms_in_order = [key["items"][str(i)]["arm"] for i in range(15)]
    assert arms_in_order != sorted(arms_in_order)  # shuffled, not grouped by arm


def test_start_again_changes_nothing_and_counts_what_is_left(study_url, capsys):
    _start(study_url, "alice", "--configs", "1,2", "--questions", "4")
    _rate_truthfully(study_url, "alice", limit=5)
    capsys.readouterr()
    assert _start(study_url, "alice", "--configs", "1", "--questions", "30") == 0
    assert "alice: 5 of 12 items rated, 7 left" in capsys.readouterr().out
    assert len(_review(study_url, "alice").trials) == 12


def test_each_rater_gets_a_study_and_an_order_of_their_own(study_url):
    _start(study_url, "alice", "--configs", "1,2", "--questions", "5")
    _start(study_url, "bob", "--configs", "1,2", "--questions", "5")
    _rate_truthfully(study_url, "alice")
    assert len(ratings(_review(study_url, "alice"), "alice")) == 15
    assert ratings(_review(study_url, "bob"), "bob") == []
    order = [review_key(_review(study_url, r))["items"][str(i)]["arm"] for r in ("alice", "bob") for i in range(15)]
    assert order[:15] != order[15:]
    main_study = optuna.load_study(study_name="s", storage=study_url)
    assert main_study.user_attrs[keys.REVIEW_RATERS] == {"alice": "s.review.alice", "bob": "s.review.bob"}


def test_results_unblind_shares_gains_agreement_and_metric_ranking(study_url, capsys, tmp_path):
    for rater in ("alice", "bob"):
        _start(study_url, rater, "--configs", "1,2", "--questions", "6")
        _rate_truthfully(study_url, rater, harmful_arm="trial 2" if rater == "alice" else "none")
    capsys.readouterr()
    assert main(["results", "--study-name", "s", "--storage", study_url]) == 0
    out = capsys.readouterr().out
    res = optuna.load_study(study_name="s", storage=study_url).user_attrs[keys.REVIEW_RESULTS]
    good, poor, base = res["arms"]["trial 1"], res["arms"]["trial 2"], res["arms"]["base"]
    assert good["correct"]["estimate"] == 1.0 and poor["correct"]["estimate"] == 0.0 and good["questions"] == 6
    assert good["vs_base"]["correct"]["estimate"] == pytest.approx(1.0)
    assert poor["harmful"]["estimate"] == pytest.approx(0.5)  # one of two raters calls each answer harmful
    assert 0.0 < poor["harmful"]["low"] < 0.5 < poor["harmful"]["high"] < 1.0
    assert res["agreement"]["correct"]["statistic"] == "cohen_kappa"
    assert res["agreement"]["correct"]["estimate"] == pytest.approx(1.0)
    assert len(res["disagreements"]) == 6 and all(d["arm"] == "trial 2" and d["on"] == ["harmful"]
                                                  for d in res["disagreements"])
    assert res["metrics"][0]["metric"] == "rougeL"
    assert "agrees best: rougeL" in out and "cohen kappa" in out
    from study.export import main as export

    assert export(["--study-name", "s", "--storage", study_url, "--trial", "1", "--no-test",
                   "--out", str(tmp_path / "best.yaml")]) == 0
    assert "clinicians' review (alice, bob, 6 questions): correct 1.00 [0.61, 1.00], vs base +1.00" in capsys.readouterr().out
    note = json.dumps((m := optuna.load_study(study_name="s", storage=study_url))._storage.get_study_system_attrs(m._study_id))
    assert "Clinicians' review" in note


def test_results_before_any_rating_is_one_line(study_url, capsys):
    _start(study_url, "alice", "--configs", "1", "--questions", "2")
    assert main(["results", "--study-name", "s", "--storage", study_url]) == 2
    assert "no rated review items yet" in capsys.readouterr().err


def test_bad_input_is_one_line_and_creates_nothing(study_url, capsys):
    assert _start(study_url, "al ice") == 2
    assert _start(study_url, "alice", "--configs", "0") == 2  # the base model is not a configuration
    assert _start(study_url, "alice", "--split", "test") == 2
    assert _start(study_url, "alice", "--configs", "confirmed") == 2
    err = capsys.readouterr().err
    assert "--rater 'al ice'" in err and "not COMPLETE fine-tunes" in err and "no test answers" in err
    assert "no confirmed configuration" in err
    names = {s.study_name for s in optuna.get_all_study_summaries(study_url)}
    assert names == {"s"}


def test_a_configuration_with_another_decoding_is_compared_with_the_base_answering_so(tmp_path, qa_file):
    url = f"sqlite:///{tmp_path / 'd.db'}"
    study = make_study(url, qa_file, other_decoding=True)
    asked = []

    def generate(cfg):
        asked.append(cfg)
        return {"answers": ["sampled base answer"] * 6, "per_question": {"rougeL": [0.2] * 6}}

    chosen = choose_configurations(study, "1,3")
    got = {a.label: a for a in arms(study, chosen, generate)}
    assert [c.decoding.temperature for c in asked] == [0.7]
    assert got["trial 1"].base == "base" and got["trial 3"].base == "base as trial 3"
    assert got["base as trial 3"].answers[0] == "sampled base answer"
    assert got["base as trial 3"].inference == asked[0].inference_key()
    assert got["base"].answers == tuple(study.trials[0].user_attrs["answers"])
    # stored on the main study: a second rater does not generate them again
    again = arms(optuna.load_study(study_name="s", storage=url), chosen, generate)
    assert len(asked) == 1 and len(again) == 4


@pytest.mark.slow
def test_the_base_model_answers_again_with_the_configurations_decoding(tmp_path, qa_file, tiny_model_dir, capsys):
    url = f"sqlite:///{tmp_path / 'g.db'}"
    make_study(url, qa_file, other_decoding=True, model=tiny_model_dir)
    assert main(["start", "--study-name", "s", "--storage", url, "--rater", "alice", "--configs", "3",
                 "--questions", "3"]) == 0
    stored = optuna.load_study(study_name="s", storage=url).user_attrs[keys.REVIEW_BASE_ANSWERS]
    (decoding, generated), = stored.items()
    assert json.loads(decoding)["decoding"]["temperature"] == 0.7
    assert len(generated["answers"]) == 6 and {"rougeL", "bertscore_f1"} <= set(generated["per_question"])
    review = _review(url, "alice")
    shown = {e["text"]["answer"] for e in review_key(review)["items"].values() if e["arm"] == "base as trial 3"}
    assert shown <= set(generated["answers"][:3])  # the base items are the newly generated answers


def test_a_review_cut_off_while_its_items_were_made_is_completed_from_its_key(study_url, capsys):
    _start(study_url, "alice", "--configs", "1,2", "--questions", "4")
    key = review_key(_review(study_url, "alice"))
    cut = optuna.create_study(study_name="s.review.carol", storage=study_url, directions=["maximize"] * 3)
    cut._storage.set_study_system_attr(cut._study_id, keys.REVIEW_KEY, {**key, "rater": "carol"})
    cut.ask()  # the one item made before the cut
    capsys.readouterr()
    assert _start(study_url, "carol", "--configs", "2") == 0  # other flags: the key decides
    assert "carol: 0 of 12 items rated, 12 left" in capsys.readouterr().out
    carol = _review(study_url, "carol")
    items = review_key(carol)["items"]
    for trial in carol.trials[1:]:
        assert items[str(trial.number)]["text"]["answer"] in note_body(carol, trial._trial_id)
