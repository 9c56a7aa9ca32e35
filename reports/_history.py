"""The optimisation history: each objective per trial number, with the best value found so far.

Each trial's marker carries its 95 % interval as an error bar where the objective has one; a
dashed horizontal line labelled "base model" marks the untuned base model's value, which is
not a trial of the search and does not enter the best so far.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports._block import FRONT_COLOR, HEIGHT, OTHER_COLOR, TRIAL_COLOR, FigureBlock, no_complete
from reports._rows import ObjectiveInfo, TrialRow, base_row, scored

KEY, TITLE = "history", "Optimisation history"


class History(NamedTuple):
    """One objective over the complete trials, the best value found so far, and the base model's value."""

    objective: ObjectiveInfo
    numbers: tuple[int, ...]
    values: tuple[float, ...]
    best: tuple[float, ...]
    low: tuple[float | None, ...] = ()  # 95 % interval of each value; None where the trial has none
    high: tuple[float | None, ...] = ()
    base: float | None = None  # the untuned base model's value; None where it was not scored
    base_interval: tuple[float, float] | None = None  # its 95 % interval, drawn as a grey band


def running_best(values: Sequence[float], direction: str) -> tuple[float, ...]:
    """Best value so far after each entry of ``values`` (max or min by ``direction``)."""
    pick = max if direction == "maximize" else min
    out: list[float] = []
    for v in values:
        out.append(v if not out else pick(out[-1], v))
    return tuple(out)


def histories(rows: Sequence[TrialRow], objectives: Sequence[ObjectiveInfo]) -> tuple[History, ...]:
    """One :class:`History` per objective, over the fine-tuned trials with values (the COMPLETE ones)."""
    done = scored(rows)
    base = base_row(rows)
    out = []
    for i, objective in enumerate(objectives):
        values = tuple(r.values[i] for r in done)  # type: ignore[index]  # filtered above
        ivs = [r.intervals.get(objective.metric) for r in done]
        base_iv = base.intervals.get(objective.metric) if base else None
        out.append(History(objective, tuple(r.number for r in done), values,
                           running_best(values, objective.direction),
                           tuple(iv.low if iv else None for iv in ivs), tuple(iv.high if iv else None for iv in ivs),
                           base.values[i] if base and base.values else None,
                           (base_iv.low, base_iv.high) if base_iv else None))
    return tuple(out)


def _errors(h: History) -> dict | None:
    """Plotly error bars from each value to its interval's ends; None where no trial has an interval."""
    if not any(x is not None for x in h.low):
        return None
    return {"type": "data", "visible": True, "thickness": 1,
            "array": [None if hi is None else max(0.0, hi - v) for v, hi in zip(h.values, h.high)],
            "arrayminus": [None if lo is None else max(0.0, v - lo) for v, lo in zip(h.values, h.low)]}


def figure(hs: Sequence[History]) -> FigureBlock:
    """One subplot per objective: trials with 95 % error bars, the best so far as a step line, the base model dashed."""
    if not any(h.numbers for h in hs):
        return no_complete(KEY, TITLE)
    fig = make_subplots(rows=len(hs), cols=1, shared_xaxes=True, subplot_titles=[str(h.objective) for h in hs])
    for i, h in enumerate(hs, start=1):
        fig.add_trace(go.Scatter(x=h.numbers, y=h.values, mode="markers", name="trial",
                                 marker={"color": TRIAL_COLOR}, error_y=_errors(h),
                                 legendgroup="trial", showlegend=i == 1), row=i, col=1)
        fig.add_trace(go.Scatter(x=h.numbers, y=h.best, mode="lines", name="best so far",
                                 line={"color": FRONT_COLOR, "shape": "hv"},
                                 legendgroup="best", showlegend=i == 1), row=i, col=1)
        if h.base is not None:
            fig.add_hline(y=h.base, line={"color": OTHER_COLOR, "dash": "dash"}, row=i, col=1,
                          annotation_text="base model", annotation_position="top left")
        if h.base_interval is not None:
            fig.add_hrect(y0=h.base_interval[0], y1=h.base_interval[1], fillcolor=OTHER_COLOR, opacity=0.15,
                          line_width=0, row=i, col=1)
    fig.update_xaxes(title_text="trial", row=len(hs), col=1)
    fig.update_layout(height=max(HEIGHT, 260 * len(hs)), title=TITLE)
    note = None
    if any(x is not None for h in hs for x in h.low):
        note = ("error bars: 95 % bootstrap interval of each trial's score over the validation questions"
                + ("; grey band: the base model's" if any(h.base_interval for h in hs) else ""))
    return FigureBlock(KEY, TITLE, fig, note)
