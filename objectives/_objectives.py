"""Names and directions of the metrics a study can optimise, and parsing of ``name:direction`` lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

from study.core.errors import StudyError

import objectives.metrics  # noqa: F401 - registers every metric
from objectives._registry import registered


class _Directions(Mapping[str, str]):
    """A live view of the registry: metric name -> ``"max"`` or ``"min"`` (the old ``METRICS`` dict)."""

    def __getitem__(self, name: str) -> str:
        return registered()[name].direction

    def __iter__(self) -> Iterator[str]:
        return iter(registered())

    def __len__(self) -> int:
        return len(registered())


#: Every metric a trial records, with the direction in which it improves (read from the registry).
METRICS: Mapping[str, str] = _Directions()

#: Metrics that need knowledge probes (a probe file, evaluation.probes).
KNOWLEDGE_METRICS = frozenset(m for m in registered() if m.startswith("probe_") or m.startswith("knowledge_"))

#: Metrics scored on other questions than the validation split's (probes, the general-medicine quiz):
#: their per-question scores do not line up with the validation answers.
OFF_VALIDATION_METRICS = frozenset(m.name for m in registered().values() if not m.on_validation) | {
    "general_accuracy_base"}

DIRECTIONS = {"max": "maximize", "min": "minimize", "maximize": "maximize", "minimize": "minimize"}


@dataclass(frozen=True)
class Objective:
    """One objective of a study: a metric and whether to maximise or minimise it."""

    metric: str
    direction: str  # "maximize" or "minimize"
    #: True when the spec named no direction (``rougeL``) and the metric's known one is used; the study note says so
    implied: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"{self.metric}:{'max' if self.direction == 'maximize' else 'min'}"

    def better(self, a: float, b: float) -> bool:
        return a > b if self.direction == "maximize" else a < b


def objective_for(metric: str) -> Objective:
    """The objective of one metric in its natural direction."""
    if metric not in METRICS:
        raise StudyError(f"unknown metric '{metric}' (valid: {', '.join(METRICS)})")
    return Objective(metric, DIRECTIONS[METRICS[metric]])


def parse_objectives(specs: Iterable[str], where: str = "--objectives") -> tuple[Objective, ...]:
    """Parse ``["rougeL:max", "train_seconds"]`` into objectives; a bare name takes its natural direction.

    Every problem is reported at once.
    """
    problems: list[str] = []
    out: list[Objective] = []
    for spec in specs:
        name, _, direction = spec.strip().partition(":")
        if name not in METRICS:
            problems.append(f"unknown metric '{name}' (valid: {', '.join(METRICS)})")
            continue
        implied = not direction
        direction = direction or METRICS[name]
        if direction not in DIRECTIONS:
            problems.append(f"'{spec}': direction must be max or min, got '{direction}'")
            continue
        out.append(Objective(name, DIRECTIONS[direction], implied))
    names = [o.metric for o in out]
    if len(set(names)) != len(names):
        problems.append(f"a metric appears twice in {', '.join(names)}")
    if not out and not problems:
        problems.append("at least one objective is needed")
    if problems:
        raise StudyError.collect(problems, where)
    return tuple(out)
