"""Directions and Pareto dominance, written once.

A study stores its directions as Optuna's ``StudyDirection``, a report row as ``"maximize"``,
the metric registry as ``"max"``: :func:`direction_of` reads any of them into the registry's
:data:`Direction`. :func:`dominates` and :func:`pareto_front` are what the run (adapters of Pareto
trials), the export (the front without the base model) and the report (its front) use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from objectives._registry import Direction

T = TypeVar("T")


def direction_of(direction: Any) -> Direction:
    """``"max"`` or ``"min"`` from Optuna's ``StudyDirection``, ``"maximize"``/``"minimize"`` or ``"max"``/``"min"``."""
    name = str(getattr(direction, "name", direction)).lower()
    if name in ("max", "maximize"):
        return "max"
    if name in ("min", "minimize"):
        return "min"
    raise ValueError(f"not a direction: {direction!r} (expected max or min)")


def _signs(directions: Sequence[Any]) -> list[float]:
    """+1 where larger is better, -1 where smaller is: a value times its sign is larger when better."""
    return [1.0 if direction_of(d) == "max" else -1.0 for d in directions]


def _dominates(a: Sequence[float], b: Sequence[float], signs: Sequence[float]) -> bool:
    pairs = [(s * x, s * y) for s, x, y in zip(signs, a, b)]
    return all(x >= y for x, y in pairs) and any(x > y for x, y in pairs)


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[Any]) -> bool:
    """Whether values ``a`` are at least as good as ``b`` on every objective and better on one."""
    return _dominates(a, b, _signs(directions))


def pareto_front(items: Sequence[T], values: Callable[[T], Sequence[float]], directions: Sequence[Any]) -> list[T]:
    """The items whose values no other item's dominate, in their order (ties all stay)."""
    signs = _signs(directions)
    points = [values(item) for item in items]
    return [item for i, item in enumerate(items)
            if not any(_dominates(other, points[i], signs) for j, other in enumerate(points) if j != i)]
