"""``median``: stop a trial whose value at a check is worse than the median of earlier trials' at that check.

The defaults suit a few checks per trial (one or a few per epoch): it waits for 4 finished
trials, and judges from the first check on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from study.pruners._base import PrunerEntry, Setting

STARTUP = Setting("n_startup_trials", int, 4, "trials that finish before it prunes any", min=0)
WARMUP = Setting("n_warmup_steps", int, 0, "checks of each trial before it may be pruned", min=0)
INTERVAL = Setting("interval_steps", int, 1, "judge every this many checks", min=1)
MIN_TRIALS = Setting("n_min_trials", int, 1, "trials with a value at a check before it judges there", min=1)


def _build(values: Mapping[str, Any]) -> Any:
    from optuna.pruners import MedianPruner

    return MedianPruner(**values)


MEDIAN = PrunerEntry(
    "median", "stop a trial worse than the median of earlier trials at the same check",
    _build, settings=(STARTUP, WARMUP, INTERVAL, MIN_TRIALS),
)
