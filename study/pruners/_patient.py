"""``patient``: wait until the pruning metric has not improved for ``patience`` steps, then ask the pruner it wraps.

With ``wrapped_pruner: none`` it is early stopping on the trial's own values. Its step is that
of the pruner it wraps (a check, or a question under ``wilcoxon``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from study.core.pruner_spec import PrunerSpec
from study.pruners._base import PrunerEntry, Setting

WRAPPED = Setting("wrapped_pruner", PrunerSpec, "none", "the pruner asked once patience runs out (none: stop then)")
PATIENCE = Setting("patience", int, 1, "steps without improvement before the trial may be stopped", min=0)
MIN_DELTA = Setting("min_delta", float, 0.0, "smallest change that counts as an improvement", min=0.0)


def _build(values: Mapping[str, Any]) -> Any:
    from optuna.pruners import PatientPruner

    wrapped = values["wrapped_pruner"]
    return PatientPruner(wrapped.build() if wrapped.prunes else None, patience=values["patience"],
                         min_delta=values["min_delta"])


PATIENT = PrunerEntry(
    "patient", "stop a trial once its pruning metric has not improved for `patience` steps and the wrapped "
    "pruner agrees", _build, unit=None, settings=(WRAPPED, PATIENCE, MIN_DELTA),
)
