from __future__ import annotations

import optuna

from reports import study_data


def test_best_trials_pair_each_answer_with_its_reference(study: optuna.Study, hostile_answer: str) -> None:
    best = {b.row.number: b.samples for b in study_data(study).best}
    assert set(best) == {0, 2, 3}
    assert best[0][0] == ("Question 0?", "Reference 0.", hostile_answer)
    assert best[2][0].reference == "Reference 2." and best[2][0].answer == "Answer 2."
