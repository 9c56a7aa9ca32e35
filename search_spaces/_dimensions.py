"""The two kinds of searched dimension, each answering for itself what the study asks of a dimension.

A :class:`Choice` is a list of values, a :class:`Range` runs from ``low`` to ``high`` (integers
when both bounds are, on a log scale or in steps). Whatever asks about a dimension (what Optuna
should suggest, the first value, the values it can reach, its grid) calls the method, so the
difference between the two kinds is written here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Choice:
    """One of ``values``."""

    values: tuple[Any, ...]

    def suggest(self, trial: Any, name: str) -> Any:
        """Ask ``trial`` (an ``optuna.Trial``) for the value of ``name``."""
        return trial.suggest_categorical(name, list(self.values))

    def first(self) -> Any:
        """The value the process is set up with before any trial (the first listed)."""
        return self.values[0]

    def extremes(self) -> list[Any]:
        """Every value a trial may get: what a rule about the dimension must hold for."""
        return list(self.values)

    def grid(self) -> list[Any] | None:
        """Every value, for Optuna's grid sampler."""
        return list(self.values)


@dataclass(frozen=True)
class Range:
    """A number from ``low`` to ``high``; integers when both bounds are integers."""

    low: float | int
    high: float | int
    log: bool = False
    step: float | int | None = None

    @property
    def is_int(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)

    def suggest(self, trial: Any, name: str) -> Any:
        """Ask ``trial`` (an ``optuna.Trial``) for the value of ``name``."""
        if self.is_int:
            return trial.suggest_int(name, self.low, self.high, step=self.step or 1, log=self.log)
        return trial.suggest_float(name, self.low, self.high, step=self.step, log=self.log)

    def first(self) -> Any:
        """The value the process is set up with before any trial (the low bound)."""
        return self.low

    def extremes(self) -> list[Any]:
        """The bounds: a rule that holds at both holds for every value between (rank, top_k, ...)."""
        return [self.low, self.high]

    def grid(self) -> list[Any] | None:
        """Every value of an integer or stepped range, for Optuna's grid sampler; None when continuous."""
        if self.log:
            return None
        if self.is_int:
            return list(range(int(self.low), int(self.high) + 1, int(self.step or 1)))
        if self.step is not None:
            n = int(round((self.high - self.low) / self.step))
            return [self.low + i * self.step for i in range(n + 1)]
        return None


Dimension = Choice | Range
