"""What a pruner is to the study: a registry entry, and an entry chosen with its settings.

An entry is the pruner's name, its factory, its step unit and the settings a space may give it
(``study.pruner: {name: median, n_startup_trials: 8}``), each with its type, default, bounds and
help. Everything else reads the entry: the space's checks, ``--pruner`` and its help,
``--explain pruner``, the loop (what a step is) and the report (what its x axis counts).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from study.core.pruner_spec import PrunerSpec

if TYPE_CHECKING:
    from optuna.pruners import BasePruner

#: A step is a check of the validation split: with ``checks_per_epoch: k`` step j falls after j / k epochs.
EPOCH = "epoch"
#: A step is one validation question's score, in validation order (the answers are scored in chunks).
QUESTION = "question"
UNITS = (EPOCH, QUESTION)
#: How --explain pruner says what a step is.
UNIT_WORDS = {EPOCH: "a step is a check of the validation split, counted in epochs",
              QUESTION: "a step is one validation question"}


@dataclass(frozen=True)
class Setting:
    """One value a space may give a pruner, named as Optuna's constructor names it."""

    name: str
    kind: type  # int, float, or PrunerSpec for the pruner a wrapper wraps
    default: Any
    help: str
    min: float | None = None
    max: float | None = None

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` (a wrapped pruner is checked by the registry), or None."""
        if self.kind is PrunerSpec:
            return None if isinstance(value, (str, PrunerSpec)) else f"expected a pruner name or mapping, got {value!r}"
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if not (is_int or (self.kind is float and isinstance(value, float))):
            return f"expected {self.kind.__name__}, got {value!r}"
        if self.min is not None and value < self.min:
            return f"must be >= {self.min:g}, got {value!r}"
        if self.max is not None and value > self.max:
            return f"must be <= {self.max:g}, got {value!r}"
        return None

    def describe(self) -> str:
        """``int >= 0, default 4: trials that finish before it prunes``: what --explain and errors show."""
        kind = "pruner" if self.kind is PrunerSpec else self.kind.__name__
        if self.min is not None and self.max is not None:
            kind += f" in [{self.min:g}, {self.max:g}]"
        elif self.min is not None:
            kind += f" >= {self.min:g}"
        return f"{kind}, default {self.default}: {self.help}"


@dataclass(frozen=True)
class PrunerEntry:
    """A pruner of the registry: one module defines one entry."""

    name: str
    help: str
    #: Builds the Optuna pruner from every setting's value (given or default; wrapped pruners already chosen).
    factory: Callable[[Mapping[str, Any]], BasePruner]
    #: What one step of the pruning study is (EPOCH or QUESTION); None: that of the pruner it wraps.
    unit: str | None = EPOCH
    settings: tuple[Setting, ...] = ()
    prunes: bool = True  # False (``none``): the study has no pruning study and trials report nothing


    def setting(self, name: str) -> Setting | None:
        return next((s for s in self.settings if s.name == name), None)


@dataclass(frozen=True)
class ChosenPruner:
    """An entry with the value of each of its settings: what the study builds and reads."""

    entry: PrunerEntry
    values: Mapping[str, Any]  # every setting; a wrapped pruner as a ChosenPruner
    spec: PrunerSpec  # as the space gave it: what the study records

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def unit(self) -> str:
        """EPOCH or QUESTION: what a step of the pruning study is, and so how the trial reports."""
        if self.entry.unit is not None:
            return self.entry.unit
        wrapped = [v for v in self.values.values() if isinstance(v, ChosenPruner)]
        return wrapped[0].unit if wrapped else EPOCH

    @property
    def per_question(self) -> bool:
        return self.unit == QUESTION

    @property
    def prunes(self) -> bool:
        """False for ``none``: the study then has no pruning study at all."""
        return self.entry.prunes

    def build(self) -> BasePruner:
        return self.entry.factory(self.values)
