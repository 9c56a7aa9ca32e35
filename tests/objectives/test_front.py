"""objectives._front: one direction type and one Pareto dominance for the run, the export and the report."""

from __future__ import annotations

import pytest
from optuna.study import StudyDirection

from objectives import direction_of, dominates, pareto_front

MAX, MIN = StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE


def test_dominates_reads_each_objective_in_its_direction() -> None:
    assert dominates([0.5, 10.0], [0.4, 20.0], [MAX, MIN])
    assert not dominates([0.5, 30.0], [0.4, 20.0], [MAX, MIN])  # better on one, worse on the other
    assert not dominates([0.5, 10.0], [0.5, 10.0], [MAX, MIN])  # equal is not better


@pytest.mark.parametrize("spelling, expected", [(MAX, "max"), (MIN, "min"), ("maximize", "max"),
                                                ("minimize", "min"), ("max", "max"), ("min", "min")])
def test_every_spelling_of_a_direction_reads_as_one(spelling, expected) -> None:
    assert direction_of(spelling) == expected
    assert dominates([2.0], [1.0], [spelling]) is (expected == "max")


def test_a_word_that_is_no_direction_is_refused() -> None:
    with pytest.raises(ValueError, match="not a direction: 'up'"):
        direction_of("up")


def test_the_front_keeps_every_point_no_other_dominates_in_order() -> None:
    points = {"a": (0.9, 30.0), "b": (0.8, 40.0), "c": (0.7, 10.0), "d": (0.9, 30.0), "e": (0.95, 50.0)}
    front = pareto_front(list(points), points.__getitem__, ["max", "min"])
    assert front == ["a", "c", "d", "e"]  # b is dominated by a; a and d tie and both stay
    assert pareto_front([], points.__getitem__, ["max", "min"]) == []
