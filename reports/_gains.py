"""Gains over the untuned base model as the report states them: never a number without its 95 % interval.

A leaf shared by :mod:`reports._vs_base` (single runs) and :mod:`reports._confirmation`
(fresh seeds): it imports no analysis module. A gain is ``tuned − base`` on the same
questions, as :func:`objectives.gain_summary` stores it; whether it *beats* the base model is
decided here from its interval and the study's direction (the stored ``significant`` uses the
metric's natural direction, which a study may have turned round).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import plotly.graph_objects as go

from objectives import Gain, best_verdict
from reports._block import FRONT_COLOR, OTHER_COLOR, grid
from reports._cells import fmt
from reports._rows import ObjectiveInfo


def gain_of(stored: Any) -> Gain | None:
    """A stored gain (``gain``, ``gain_ci95``, ``p_value``, ``questions``) or None where incomplete."""
    return Gain.from_dict(stored)


def text(g: Gain) -> str:
    """``+0.052, 95 % interval [+0.031, +0.074]``."""
    return g.interval_text(digits=3)


def cell(g: Gain | None) -> str:
    """A table cell: the gain, its interval below, then p where there is one."""
    if g is None:
        return fmt(None)
    p = f"<br>p = {g.p_value:.2g}" if g.p_value is not None else ""
    return f'<span class="num">{g.gain:+.3g}<br><span class="gain">[{g.low:+.3g}, {g.high:+.3g}]{p}</span></span>'


def verdict(objective: ObjectiveInfo, gains: Mapping[int, Gain], who: str) -> str:
    """One sentence from the numbers: the trial that beats the base model most on the objective, or none.

    ``who`` names the candidates in the negative sentence: "confirmed configuration".
    """
    return best_verdict(objective.metric, gains, objective.direction == "maximize", who=who, digits=3)


def forest(rows: Sequence[tuple[str, Mapping[str, Gain | None]]], objectives: Sequence[ObjectiveInfo],
           title: str) -> go.Figure | None:
    """One panel per objective: each row's gain with its 95 % interval, 0 (the base model) dashed;
    red where the interval lies on the better side. None where no row has a gain."""
    shown = [o for o in objectives if any(g.get(o.metric) for _, g in rows)]
    if not shown:
        return None
    fig, cells = grid([f"gain in {o.metric} vs base" for o in shown])
    for o, (r, c) in zip(shown, cells):
        pts = [(label, g) for label, gains in rows if (g := gains.get(o.metric)) is not None]
        fig.add_trace(go.Scatter(
            x=[g.gain for _, g in pts], y=[label for label, _ in pts], mode="markers", showlegend=False,
            marker={"size": 10, "color": [FRONT_COLOR if g.beats(o.direction == "maximize") else OTHER_COLOR for _, g in pts]},
            error_x={"type": "data", "symmetric": False, "array": [max(0.0, g.high - g.gain) for _, g in pts],
                     "arrayminus": [max(0.0, g.gain - g.low) for _, g in pts]},
            text=[f"{label}<br>{o.metric}: {text(g)}" for label, g in pts], hovertemplate="%{text}<extra></extra>",
        ), row=r, col=c)
        fig.add_vline(x=0, line={"color": "#444444", "dash": "dash"}, row=r, col=c)
        fig.update_yaxes(autorange="reversed", row=r, col=c)
    fig.update_layout(title=title)
    return fig
