"""The metric registry: one entry per metric, which every part of the study reads.

A :class:`Metric` says what a metric is called, in which direction it improves, and what it
needs to be computed. Metrics of the answers alone (``needs`` within :data:`ANSWER_INPUTS`) also
carry their per-question function, and :func:`study.finetune.evaluation.score_answers` computes
every one of them; the others (losses, timings, the quiz, the probes, a judge) are produced by
the trial recipe and only declared here. Validation of objectives, directions, intervals,
gains, the dashboard note and the report all look metrics up here.

Adding an answer metric is one module under :mod:`objectives.metrics` that calls
:func:`register` (see ``objectives/metrics/chrf.py``), plus its test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

from study.core.errors import StudyError

Direction = Literal["max", "min"]
#: What an answer metric may need; a metric that needs anything else is produced by the trial recipe.
ANSWER_INPUTS = frozenset({"answers", "references", "questions", "encoder"})


@dataclass(frozen=True)
class Answers:
    """What an answer metric scores: answers beside their references (and questions), in one language."""

    predictions: Sequence[str]
    references: Sequence[str]
    questions: Sequence[str] = ()
    language: str | None = None  # ISO 639-1; None: English, as the metrics always scored
    encoder: Any = None  # the BERTScore scorer (objectives.BertScorer), where the metric needs one

    def __post_init__(self) -> None:
        if len(self.predictions) != len(self.references):
            raise ValueError(f"got {len(self.predictions)} predictions for {len(self.references)} references")
        if not self.references:
            raise ValueError("cannot score an empty list of answers")


@dataclass(frozen=True)
class Metric:
    """One metric a trial can record and a study can optimise.

    Args:
        name: the key under which it is stored (``rougeL``).
        direction: ``"max"`` or ``"min"``: the way it improves.
        help: one line for ``--help`` and the report.
        needs: its inputs: ``answers``, ``references``, ``questions``, ``encoder`` (answer metrics) or
            ``model``, ``quiz``, ``probes``, ``judge``, ``training``, ``base`` (produced by the trial).
        per_question: for an answer metric, one score per question (a mean metric) or one row of
            counts per question (a corpus metric, with ``from_rows``).
        from_rows: a corpus metric's value from its rows summed over questions (BLEU).
        on_validation: False where its per-question scores are over other questions than the
            validation split's (probes, the quiz): they do not line up with the validation answers.
        requires: the config key (``evaluation.general_questions``) that must be set for anything to
            produce it; an objective on it is refused before the study starts otherwise.
    """

    name: str
    direction: Direction
    help: str
    needs: frozenset[str] = frozenset({"answers", "references"})
    per_question: Callable[[Answers], list] | None = field(default=None, compare=False)
    from_rows: Callable[[Sequence[int]], float] | None = field(default=None, compare=False)
    on_validation: bool = True
    requires: str | None = None

    def __post_init__(self) -> None:
        if self.direction not in ("max", "min"):
            raise ValueError(f"metric '{self.name}': direction must be 'max' or 'min', got {self.direction!r}")
        if self.per_question is not None and not self.needs <= ANSWER_INPUTS:
            raise ValueError(f"metric '{self.name}' has a per-question function but needs {sorted(self.needs)}")

    @property
    def maximize(self) -> bool:
        return self.direction == "max"

    @property
    def optuna_direction(self) -> str:
        """``"maximize"`` or ``"minimize"``, as Optuna names directions."""
        return "maximize" if self.maximize else "minimize"

    @property
    def from_answers(self) -> bool:
        """True for a metric :func:`score_answers` computes from the answers alone."""
        return self.per_question is not None

    def better(self, a: float, b: float) -> bool:
        return a > b if self.maximize else a < b


_REGISTRY: dict[str, Metric] = {}


def register(*metrics: Metric) -> None:
    """Add metrics to the registry; a name registered twice is a programming error."""
    for metric in metrics:
        if metric.name in _REGISTRY:
            raise ValueError(f"metric '{metric.name}' is registered twice")
        _REGISTRY[metric.name] = metric


def registered() -> Mapping[str, Metric]:
    """Every metric, by name, in the order registered."""
    return dict(_REGISTRY)


def metric(name: str) -> Metric:
    """The metric called ``name``; a :class:`StudyError` naming the valid ones otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise StudyError(f"unknown metric '{name}' (valid: {', '.join(_REGISTRY)})") from None


def answer_metrics(with_encoder: bool = True) -> list[Metric]:
    """The metrics :func:`score_answers` computes, in registry order (BERTScore only with an encoder)."""
    return [m for m in _REGISTRY.values() if m.from_answers and (with_encoder or "encoder" not in m.needs)]


def unproduced(names: Iterable[str], settings: Callable[[str], Any]) -> list[str]:
    """Problems of metrics nothing will produce: ``settings(key)`` reads a dotted config key."""
    problems = []
    for name in names:
        m = _REGISTRY.get(name)
        if m is not None and m.requires is not None and not settings(m.requires):
            problems.append(f"metric '{name}' is produced only with '{m.requires}' set; set it in the space "
                            f"or with --set {m.requires}=...")
    return problems


__all__ = ["ANSWER_INPUTS", "Answers", "Direction", "Metric", "answer_metrics", "metric", "register",
           "registered", "unproduced"]
