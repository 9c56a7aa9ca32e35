"""Answer length trade-off: answer length against the domain metric, one colour per answer style.

The length metric is the one the study optimises, else the first of :data:`LENGTH_METRICS`
that a trial recorded; the groups are the trials' ``data.answer_style``.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import plotly.graph_objects as go

from reports._block import GROUP_COLORS, HEIGHT, FigureBlock
from reports._rows import DOMAIN_METRIC, ObjectiveInfo, StudyRows, TrialRow, as_number, complete
from reports._scatter import Point, points, scatter

KEY, TITLE = "length", "Answer length trade-off"
#: Answer-length metrics, in order of preference when none is an objective.
LENGTH_METRICS = ("answer_words", "length_error")


class LengthTradeoff(NamedTuple):
    """Answer length (y) against the domain metric (x); groups are the trials' answer styles."""

    x_metric: str
    y_metric: str | None  # None when no trial recorded an answer-length metric
    points: tuple[Point, ...]
    note: str | None


def answer_style(row: TrialRow) -> str:
    """The trial's ``data.answer_style``, or "none" when it used the plain system prompt."""
    return str((row.config.get("data") or {}).get("answer_style") or "none")


def length_tradeoff(rows: Sequence[TrialRow], objectives: Sequence[ObjectiveInfo],
                    x_metric: str = DOMAIN_METRIC) -> LengthTradeoff:
    """Answer length against the domain metric, grouped by answer style when any trial set one."""
    done = complete(rows)
    recorded = {m for r in done for m in LENGTH_METRICS if as_number(r.metrics.get(m)) is not None}
    chosen = [o.metric for o in objectives if o.metric in recorded] + [m for m in LENGTH_METRICS if m in recorded]
    if not chosen:
        return LengthTradeoff(x_metric, None, (), f"no COMPLETE trial recorded {' or '.join(LENGTH_METRICS)}")
    styled = any(answer_style(r) != "none" for r in done)
    pts = points(done, x_metric, chosen[0], answer_style if styled else None)
    note = None if pts else f"no COMPLETE trial recorded both {x_metric} and {chosen[0]}"
    return LengthTradeoff(x_metric, chosen[0], pts, note)


def info(data: StudyRows) -> LengthTradeoff:
    return length_tradeoff(data.trials, data.objectives)


def figure(lengths: LengthTradeoff) -> FigureBlock:
    """Answer length against the domain metric, one colour per answer style."""
    if not lengths.points or lengths.y_metric is None:
        return FigureBlock(KEY, TITLE, None, lengths.note)
    groups = sorted({p.group for p in lengths.points}, key=lambda g: (g is None, str(g)))
    fig = go.Figure()
    for group, color in zip(groups, GROUP_COLORS * len(groups)):
        members = [p for p in lengths.points if p.group == group]
        name = "trial" if group is None else f"answer_style {group}"
        fig.add_trace(scatter(members, lengths.x_metric, lengths.y_metric, name, color))
    fig.update_layout(height=HEIGHT, title=TITLE, xaxis_title=lengths.x_metric, yaxis_title=lengths.y_metric,
                      showlegend=groups != [None])
    return FigureBlock(KEY, TITLE, fig, lengths.note)


def table(lengths: LengthTradeoff) -> None:
    """No table: each trial's values are in its hover text."""
    return None
