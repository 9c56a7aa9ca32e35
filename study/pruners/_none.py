"""``none``: no pruning; every trial runs to its end and no pruning study is made."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from study.pruners._base import PrunerEntry


def _build(values: Mapping[str, Any]) -> Any:
    from optuna.pruners import NopPruner

    return NopPruner()


NONE = PrunerEntry("none", "no pruning: every trial runs to its end", _build, prunes=False)
