"""What every figure of the report shares: the block it comes in, its size, colours and hover text.

A leaf: it imports no other module of :mod:`reports`, so that every analysis module draws
with the same pieces without importing another analysis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

FRONT_COLOR = "#d62728"  # red: Pareto-optimal trials
OTHER_COLOR = "#9e9e9e"  # grey: dominated trials, the base model
TRIAL_COLOR = "#1f77b4"  # blue: complete trials
HEIGHT = 480  # px per figure (per row for stacked subplots)
#: Subplots per row in the per-metric and per-objective grids.
GRID_COLUMNS = 3
# Colours of successive groups (answer styles, exported trials), after plotly's default cycle.
GROUP_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


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


def trial_hover(number: int, values: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """Hover text of one trial: its number, the plotted values (numbers or text), then its parameters."""
    lines = [f"trial {number}"]
    lines += [f"{name}: {short(v)}" for name, v in values.items()]
    lines += [f"{name}: {short(v)}" for name, v in params.items()]
    return "<br>".join(lines)


def grid(titles: Sequence[str]) -> tuple[go.Figure, list[tuple[int, int]]]:
    """Subplots in rows of :data:`GRID_COLUMNS`, each with its own y axis, and their (row, col)."""
    cols = min(len(titles), GRID_COLUMNS)
    rows = math.ceil(len(titles) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles), vertical_spacing=0.3 / rows)
    fig.update_layout(height=max(HEIGHT, 320 * rows))
    return fig, [(i // cols + 1, i % cols + 1) for i in range(len(titles))]
