"""``successive_halving``: asynchronous successive halving; at each rung only the best 1 / reduction_factor go on.

A resource is a check: with one or a few checks per trial, rungs start at the first check and
halve (reduction factor 2) rather than Optuna's default quarter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from study.pruners._base import PrunerEntry, Setting

MIN_RESOURCE = Setting("min_resource", int, 1, "checks before the first rung", min=1)
REDUCTION = Setting("reduction_factor", int, 2, "keep the best 1 / this at each rung", min=2)
RATE = Setting("min_early_stopping_rate", int, 0, "skip this many first rungs", min=0)


def _build(values: Mapping[str, Any]) -> Any:
    from optuna.pruners import SuccessiveHalvingPruner

    return SuccessiveHalvingPruner(**values)


SUCCESSIVE_HALVING = PrunerEntry(
    "successive_halving", "at each rung of checks keep only the best 1 / reduction_factor of the trials",
    _build, settings=(MIN_RESOURCE, REDUCTION, RATE),
)
