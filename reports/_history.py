"""The optimisation history: each objective per trial number, with the best value found so far."""

from __future__ import annotations

from typing import NamedTuple, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports._block import FRONT_COLOR, HEIGHT, TRIAL_COLOR, FigureBlock, no_complete
from reports._rows import ObjectiveInfo, TrialRow

KEY, TITLE = "history", "Optimisation history"


class History(NamedTuple):
    """One objective over the complete trials, and the best value found so far."""

    objective: ObjectiveInfo
    numbers: tuple[int, ...]
    values: tuple[float, ...]
    best: tuple[float, ...]


def running_best(values: Sequence[float], direction: str) -> tuple[float, ...]:
    """Best value so far after each entry of ``values`` (max or min by ``direction``)."""
    pick = max if direction == "maximize" else min
    out: list[float] = []
    for v in values:
        out.append(v if not out else pick(out[-1], v))
    return tuple(out)


def histories(rows: Sequence[TrialRow], objectives: Sequence[ObjectiveInfo]) -> tuple[History, ...]:
    """One :class:`History` per objective, over the trials with values (the COMPLETE ones)."""
    done = [r for r in rows if r.values is not None]
    out = []
    for i, objective in enumerate(objectives):
        values = tuple(r.values[i] for r in done)  # type: ignore[index]  # filtered above
        out.append(History(objective, tuple(r.number for r in done), values,
                           running_best(values, objective.direction)))
    return tuple(out)


def figure(hs: Sequence[History]) -> FigureBlock:
    """One subplot per objective: the trials as markers, the best so far as a step line."""
    if not any(h.numbers for h in hs):
        return no_complete(KEY, TITLE)
    fig = make_subplots(rows=len(hs), cols=1, shared_xaxes=True, subplot_titles=[str(h.objective) for h in hs])
    for i, h in enumerate(hs, start=1):
        fig.add_trace(go.Scatter(x=h.numbers, y=h.values, mode="markers", name="trial",
                                 marker={"color": TRIAL_COLOR},
                                 legendgroup="trial", showlegend=i == 1), row=i, col=1)
        fig.add_trace(go.Scatter(x=h.numbers, y=h.best, mode="lines", name="best so far",
                                 line={"color": FRONT_COLOR, "shape": "hv"},
                                 legendgroup="best", showlegend=i == 1), row=i, col=1)
    fig.update_xaxes(title_text="trial", row=len(hs), col=1)
    fig.update_layout(height=max(HEIGHT, 260 * len(hs)), title=TITLE)
    return FigureBlock(KEY, TITLE, fig)
