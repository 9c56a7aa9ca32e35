"""Trials as points of a scatter plot of two metrics, shared by the forgetting and answer-length analyses."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import plotly.graph_objects as go

from reports._block import trial_hover
from reports._rows import TrialRow, as_number, complete


class Point(NamedTuple):
    """One COMPLETE trial in a scatter plot; ``group`` sets its colour where there are groups."""

    number: int
    params: dict[str, Any]
    x: float
    y: float
    group: str | None = None


def points(rows: Sequence[TrialRow], x: str, y: str,
           group: Callable[[TrialRow], str] | None = None) -> tuple[Point, ...]:
    """COMPLETE trials that recorded both metrics; ``group(row)`` names each trial's group."""
    out = []
    for r in complete(rows):
        vx, vy = as_number(r.metrics.get(x)), as_number(r.metrics.get(y))
        if vx is not None and vy is not None:
            out.append(Point(r.number, r.params, vx, vy, group(r) if group else None))
    return tuple(out)


def scatter(pts: Sequence[Point], x_name: str, y_name: str, name: str, color: str) -> go.Scatter:
    """One trace of ``pts``, hovering each trial's number, both metrics and its parameters."""
    return go.Scatter(
        x=[p.x for p in pts], y=[p.y for p in pts], mode="markers", name=name,
        marker={"color": color, "size": 9},
        text=[trial_hover(p.number, {x_name: p.x, y_name: p.y}, p.params) for p in pts],
        hovertemplate="%{text}<extra></extra>",
    )
