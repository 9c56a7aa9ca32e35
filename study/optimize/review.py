"""Making a rater's blinded review in optuna-dashboard: one item (a RUNNING trial) per answer to rate.

For each of the first ``n`` validation questions, each arm's answer (the chosen
configurations', and the base model's under the same decoding: :mod:`study.optimize.review_arms`)
becomes an item, in an order drawn for the rater, so nothing on the page names the
configuration. The item's note shows the question, the reference and the answer; the study's
objective form (three choice widgets, :data:`review_store.RUBRIC`) takes the rating and
completes the item, so the dashboard's trial list without COMPLETE trials is what is left
to rate. The key (with each item's text) is written before the first item, so a review cut
off while its items were being made is completed by the next ``start`` from its key alone.
"""

from __future__ import annotations

import random
import warnings
import zlib
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import optuna

from study.core import keys
from study.optimize.dashboard import write_note
from study.core.errors import StudyError
from study.optimize.review_arms import Arm, arms, choose_configurations, validation_questions
from study.optimize.review_store import (
    COMMENT_MARKER,
    RUBRIC,
    check_rater,
    open_review,
    raters,
    review_key,
    review_name,
)


@dataclass(frozen=True)
class Item:
    """One answer to rate and where it came from (the part the rater never sees: ``arm``)."""

    arm: str
    question: int
    question_text: str
    reference: str
    answer: str
    scores: dict[str, Any]  # the automatic metrics of this answer


def rater_seed(rater: str) -> int:
    """Each rater gets an order of their own, the same every time the review is made again."""
    return zlib.crc32(rater.encode())


def make_items(arms: Sequence[Arm], questions: Sequence[Any], n_questions: int, seed: int) -> list[Item]:
    """The items of the first ``n_questions`` questions, every arm's answer to each, shuffled with ``seed``."""
    items = []
    for q in range(min(n_questions, len(questions))):
        for arm in arms:
            if q < len(arm.answers):
                scores = {m: v[q] for m, v in arm.scores.items() if q < len(v)}
                items.append(Item(arm.label, q, questions[q].question, questions[q].answer, arm.answers[q], scores))
    random.Random(seed).shuffle(items)
    return items


def _quote(text: str) -> str:
    """Text as a Markdown block quote, line by line (an answer may span lines)."""
    return "\n".join("> " + line for line in str(text).splitlines() or [""])


def item_note(text: Mapping[str, str], number: int, total: int) -> str:
    """The note of an item: ``text`` holds its question, reference and answer."""
    return "\n\n".join([
        f"## Item {number + 1} of {total}",
        "**Question**", _quote(text["question"]),
        "**Reference answer** (from the team's material)", _quote(text["reference"]),
        "**Answer to rate**", _quote(text["answer"]),
        "Rate the answer with the form below and press **Submit**: the item is then complete and leaves the list "
        "of items to rate. Nothing here says which model wrote it.",
        COMMENT_MARKER,
    ])


def study_note(main: str, rater: str, total: int) -> str:
    criteria = "\n".join(f"- **{c.name}**: {c.question} ({' / '.join(c.choices)})" for c in RUBRIC)
    return "\n\n".join([
        f"## Review of study `{main}` by {rater}",
        f"{total} answers to clinical questions, each an item (a trial) of this study, in random order. "
        "Some were written by fine-tuned models, some by the untuned model; nothing on the page says which.",
        "**How to rate.** Open *Trials* (the list on the left; filter out *Complete* to see only what is left), "
        "read an item's question, reference answer and answer in its note, and fill in the form:",
        criteria,
        "Each question of the form starts with its first choice selected: set all three before you press "
        "**Submit**. A submitted rating cannot be changed here. An answer you cannot judge: *Fail trial* skips it "
        "(it is left out of the results). You may stop at any time: rated items are complete, and the list "
        "without *Complete* items is what is left. Please do not open other raters' review studies or the main "
        "study: their pages would show you which model wrote what.",
    ])


def create_review(storage: Any, main: optuna.Study, rater: str, items: Sequence[Item], arms: Sequence[Arm]
                  ) -> optuna.Study:
    """The rater's review study: the form, the key (written first), the study note, then one RUNNING trial per item."""
    from optuna_dashboard import ChoiceWidget, register_objective_form_widgets

    review = optuna.create_study(storage=storage, study_name=review_name(main.study_name, rater),
                                 directions=[c.direction for c in RUBRIC])
    key = {"main": main.study_name, "rater": rater,
           "arms": {a.label: {"trial": a.trial, "base": a.base, "inference": a.inference} for a in arms},
           "items": {str(i): {"arm": it.arm, "question": it.question, "scores": it.scores,
                              "text": {"question": it.question_text, "reference": it.reference, "answer": it.answer}}
                     for i, it in enumerate(items)}}
    review._storage.set_study_system_attr(review._study_id, keys.REVIEW_KEY, key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        review.set_metric_names([c.name for c in RUBRIC])
    register_objective_form_widgets(review, [
        ChoiceWidget(choices=list(c.choices), values=list(c.values), description=c.question) for c in RUBRIC])
    write_note(review, None, study_note(main.study_name, rater, len(items)))
    return complete_review(review, main, rater)


def complete_review(review: optuna.Study, main: optuna.Study, rater: str) -> optuna.Study:
    """Make the items the key holds and the study does not yet (all of them, or those a cut-off start left)."""
    items = review_key(review)["items"]
    for _ in range(len(review.get_trials(deepcopy=False)), len(items)):
        trial = review.ask()
        write_note(review, trial._trial_id, item_note(items[str(trial.number)]["text"], trial.number, len(items)))
    if raters(main).get(rater) != review.study_name:
        main.set_user_attr(keys.REVIEW_RATERS, {**raters(main), rater: review.study_name})
    return review


def ensure_review(storage: Any, main: optuna.Study, rater: str, configs: str, n_questions: int
                  ) -> tuple[optuna.Study, str | None]:
    """The rater's review, made where it does not exist; and a sentence when it was made now.

    An existing review keeps its items (its configurations and questions were fixed when it
    was made), so that a rater who comes back finds the same ones; one cut off while its items
    were being made is completed from its key, and one cut off before its key was written is
    made again.
    """
    check_rater(rater)
    if n_questions < 1:
        raise StudyError(f"--questions {n_questions}: must be at least 1")
    review = open_review(storage, main, rater)
    if review is not None:
        if keys.REVIEW_KEY in review._storage.get_study_system_attrs(review._study_id):
            return complete_review(review, main, rater), None
        if review.trials:
            raise StudyError(f"study '{review.study_name}' exists but was not made by python -m study.review start")
        optuna.delete_study(study_name=review.study_name, storage=storage)
    chosen = choose_configurations(main, configs)
    all_arms = arms(main, chosen)
    questions = validation_questions(main)
    items = make_items(all_arms, questions, n_questions, rater_seed(rater))
    review = create_review(storage, main, rater, items, all_arms)
    return review, (f"review '{review.study_name}': {len(items)} answers from trials "
                    f"{', '.join(str(t.number) for t in chosen)} and the base model to "
                    f"{min(n_questions, len(questions))} questions, in random order")
