"""Pruners: one module per pruner behind a registry that the space checks, the command line and the loop read.

``choose(settings.pruner)`` gives the chosen pruner (its unit: a step is a check of the
validation split or a question; ``build()``: the Optuna pruner); ``check`` lists what is wrong
with a pruner a space or a flag names; ``explain`` describes them all.
"""

from __future__ import annotations

from study.pruners._base import EPOCH, QUESTION, ChosenPruner, PrunerEntry, Setting
from study.pruners._registry import PRUNERS, build, check, choose, explain, names, stored_unit

__all__ = [
    "EPOCH",
    "PRUNERS",
    "QUESTION",
    "ChosenPruner",
    "PrunerEntry",
    "Setting",
    "build",
    "check",
    "choose",
    "explain",
    "names",
    "stored_unit",
]
