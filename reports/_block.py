"""What every figure of the report shares: the block it comes in, its size, colours and hover text.

Kept apart from :mod:`reports._figures` so that the study figures there and the analysis
figures in :mod:`reports._analysis_figures` build on the same pieces without importing
each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import plotly.graph_objects as go

FRONT_COLOR = "#d62728"  # red: Pareto-optimal trials
OTHER_COLOR = "#9e9e9e"  # grey: dominated trials, the base model
TRIAL_COLOR = "#1f77b4"  # blue: complete trials
HEIGHT = 480  # px per figure (per row for stacked subplots)


@dataclass(frozen=True)
class FigureBlock:
    """One figure of the report, or the note that replaces it."""

    key: str  # stable identifier, also the HTML anchor: "pareto", "history", ...
    title: str
    figure: go.Figure | None
    note: str | None = None


def no_complete(key: str, title: str) -> FigureBlock:
    return FigureBlock(key, title, None, "no COMPLETE trials yet")


def short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def trial_hover(number: int, values: Mapping[str, float | None], params: Mapping[str, Any]) -> str:
    """Hover text of one trial: its number, the plotted values, then its parameters."""
    lines = [f"trial {number}"]
    lines += [f"{name}: {short(v)}" for name, v in values.items()]
    lines += [f"{name}: {short(v)}" for name, v in params.items()]
    return "<br>".join(lines)
