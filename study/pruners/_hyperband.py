"""``hyperband``: successive halving in several brackets, each starting to prune at another rung."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from study.pruners._base import PrunerEntry
from study.pruners._successive_halving import MIN_RESOURCE, REDUCTION


def _build(values: Mapping[str, Any]) -> Any:
    from optuna.pruners import HyperbandPruner

    return HyperbandPruner(**values)


HYPERBAND = PrunerEntry(
    "hyperband", "successive halving in brackets that start pruning at different rungs",
    _build, settings=(MIN_RESOURCE, REDUCTION),
)
