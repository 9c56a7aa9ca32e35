"""What a study says about an exported configuration's memorisation, in words, against the base model.

``study.export`` prints, for the configuration it exports, ``membership_auc`` with its 95 %
interval beside the untuned base model's (about 0.5: it never saw the training pairs) and
their paired difference, and a warning when the configuration's interval lies above the
base's: its adapter tells its own training pairs from unseen ones, so it carries something
of them. ``exposure`` needs canaries, which never reach an exported configuration; the line
says where to measure it.
"""

from __future__ import annotations

from typing import Any, Mapping

import objectives
from study.core import keys

MEMORISATION_METRICS = ("membership_auc", "exposure")


def memorisation_lines(trial: Any, base: Any | None) -> list[str]:
    """Lines on ``trial``'s ``membership_auc`` and ``exposure`` (frozen trials; ``base`` may be None)."""
    intervals = _intervals(trial.user_attrs)
    base_intervals = _intervals(base.user_attrs) if base is not None else {}
    lines = []
    for metric in MEMORISATION_METRICS:
        mine = intervals.get(metric)
        if mine is None:
            lines.append(_not_measured(metric))
            continue
        reference = base_intervals.get(metric)
        line = f"{metric} {mine.format(3)}"
        if reference is not None:
            line += f"; base model {reference.format(3)}"
            paired = objectives.gain_table(trial.user_attrs.get(keys.PER_QUESTION) or {},
                                           base.user_attrs.get(keys.PER_QUESTION) or {}, [metric]).get(metric)
            if paired is not None:
                lo, hi = paired["gain_ci95"]
                line += f"; difference {paired['gain']:+.3f} [{lo:+.3f}, {hi:+.3f}]"
        lines.append(line)
        if reference is not None and mine.low > reference.high:
            lines.append(_warning(metric))
    return lines


def _intervals(attrs: Mapping[str, Any]) -> dict[str, objectives.Interval]:
    stored = attrs.get(keys.INTERVALS) or {}
    return {m: objectives.Interval.from_dict(stored[m]) for m in MEMORISATION_METRICS if stored.get(m)}


def _not_measured(metric: str) -> str:
    if metric == "exposure":
        return ("exposure: not measured (no canaries: privacy.canaries trains made-up identity numbers, which never "
                "reach an exported configuration; python -m study.run --space privacy measures how these settings "
                "memorise them)")
    return f"{metric}: not measured for this trial (privacy.membership_pairs: 0, or a study from before it)"


def _warning(metric: str) -> str:
    if metric == "membership_auc":
        return ("warning: this configuration's membership_auc interval lies above the base model's: its adapter tells "
                "the pairs it was trained on from unseen ones, so it carries something of its training data. Share "
                "the adapter or merged model only where the training data itself may go.")
    return (f"warning: this configuration's {metric} interval lies above the base model's: it has memorised "
            "made-up identity numbers it was shown, and would memorise real ones as well.")
