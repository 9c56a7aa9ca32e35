"""``percentile``: as ``median``, with another cut: stop a trial outside the best ``percentile`` % at a check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from study.pruners._base import PrunerEntry, Setting
from study.pruners._median import INTERVAL, MIN_TRIALS, STARTUP, WARMUP

PERCENTILE = Setting("percentile", float, 25.0, "keep trials within the best this many percent at each check",
                     min=0.0, max=100.0)


def _build(values: Mapping[str, Any]) -> Any:
    from optuna.pruners import PercentilePruner

    return PercentilePruner(**values)


PERCENTILE_PRUNER = PrunerEntry(
    "percentile", "stop a trial outside the best percentile of earlier trials at the same check",
    _build, settings=(PERCENTILE, STARTUP, WARMUP, INTERVAL, MIN_TRIALS),
)
