"""Gains over the untuned base model as the report states them: never a number without its 95 % interval.

A leaf shared by :mod:`reports._vs_base` (single runs) and :mod:`reports._confirmation`
(fresh seeds): it imports no analysis module. A gain is ``tuned − base`` on the same
questions, as :func:`objectives.gain_summary` stores it; whether it *beats* the base model is
decided here from its interval and the study's direction (the stored ``significant`` uses the
metric's natural direction, which a study may have turned round).
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Sequence

import plotly.graph_objects as go

from reports._block import FRONT_COLOR, OTHER_COLOR, grid
from reports._cells import fmt
from reports._rows import ObjectiveInfo, as_number


class Gain(NamedTuple):
    """``tuned − base`` with its paired 95 % interval over ``questions``, and the Wilcoxon p-value."""

    gain: float
    low: float
    high: float
    p_value: float | None
    questions: int | None


def gain_of(stored: Any) -> Gain | None:
    """A stored gain (``gain``, ``gain_ci95``, ``p_value``, ``questions``) or None where incomplete."""
    if not isinstance(stored, Mapping):
        return None
    ci = stored.get("gain_ci95")
    gain = as_number(stored.get("gain"))
    ends = [as_number(x) for x in ci] if isinstance(ci, (list, tuple)) and len(ci) == 2 else [None, None]
    if gain is None or None in ends:
        return None
    questions = stored.get("questions")
    return Gain(gain, ends[0], ends[1], as_number(stored.get("p_value")),  # type: ignore[arg-type]
                questions if isinstance(questions, int) else None)


def beats(g: Gain, direction: str) -> bool:
    """Whether the whole interval lies on the better side of 0 for ``direction``."""
    return g.low > 0 if direction == "maximize" else g.high < 0


def text(g: Gain) -> str:
    """``+0.052, 95 % interval [+0.031, +0.074]``."""
    return f"{g.gain:+.3g}, 95 % interval [{g.low:+.3g}, {g.high:+.3g}]"


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
    metric, direction = objective.metric, objective.direction
    if not gains:
        return f"no gain over the base model on {metric} could be computed"
    sign = 1.0 if direction == "maximize" else -1.0
    real = {n: g for n, g in gains.items() if beats(g, direction)}
    if real:
        n, g = max(real.items(), key=lambda kv: (sign * kv[1].gain, -kv[0]))
        return (f"trial {n} beats the base model on {metric} by {g.gain:+.3g}, 95 % interval [{g.low:+.3g}, {g.high:+.3g}]"
                + (" (lower is better)" if direction == "minimize" else ""))
    n, g = max(gains.items(), key=lambda kv: (sign * kv[1].gain, -kv[0]))
    return (f"no {who} beats the base model on {metric} (best gain {g.gain:+.3g}, "
            f"interval [{g.low:+.3g}, {g.high:+.3g}], trial {n}{'; lower is better' if direction == 'minimize' else ''})")


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
            marker={"size": 10, "color": [FRONT_COLOR if beats(g, o.direction) else OTHER_COLOR for _, g in pts]},
            error_x={"type": "data", "symmetric": False, "array": [max(0.0, g.high - g.gain) for _, g in pts],
                     "arrayminus": [max(0.0, g.gain - g.low) for _, g in pts]},
            text=[f"{label}<br>{o.metric}: {text(g)}" for label, g in pts], hovertemplate="%{text}<extra></extra>",
        ), row=r, col=c)
        fig.add_vline(x=0, line={"color": "#444444", "dash": "dash"}, row=r, col=c)
        fig.update_yaxes(autorange="reversed", row=r, col=c)
    fig.update_layout(title=title)
    return fig
