"""The Pareto front: objective values of the complete trials, the Pareto-optimal ones in red.

Two objectives give a scatter plot; three or more a scatter matrix, because a trial on the
front may look dominated in any single pair of objectives.
"""

from __future__ import annotations

from typing import Sequence

import optuna
import plotly.graph_objects as go
from optuna.trial import FrozenTrial

from reports._block import FRONT_COLOR, HEIGHT, OTHER_COLOR, FigureBlock, no_complete, trial_hover
from reports._rows import StudyRows, TrialRow

KEY, TITLE = "pareto", "Pareto front"


def pareto_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The Pareto front (``study.best_trials``), best first by the first objective."""
    front = study.best_trials
    sign = -1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
    return sorted(front, key=lambda t: (sign * t.values[0], t.number))


def _hover(row: TrialRow, names: Sequence[str]) -> str:
    return trial_hover(row.number, dict(zip(names, row.values or ())), row.params)


def figure(data: StudyRows) -> FigureBlock:
    """Objective values of complete trials, the front (``data.pareto``) in red."""
    done = [r for r in data.trials if r.values is not None]
    if not done:
        return no_complete(KEY, TITLE)
    if len(data.objectives) < 2:
        return FigureBlock(KEY, TITLE, None, "single-objective study: see the optimisation history")
    names = [o.metric for o in data.objectives]
    front_numbers = {r.number for r in data.pareto}
    groups = [
        ("dominated", [r for r in done if r.number not in front_numbers], OTHER_COLOR),
        ("Pareto front", [r for r in done if r.number in front_numbers], FRONT_COLOR),
    ]
    fig = go.Figure()
    for label, rows, color in groups:
        hover = [_hover(r, names) for r in rows]
        if len(names) == 2:
            fig.add_trace(go.Scatter(
                x=[r.values[0] for r in rows], y=[r.values[1] for r in rows],  # type: ignore[index]
                mode="markers", name=label, marker={"color": color, "size": 9},
                text=hover, hovertemplate="%{text}<extra></extra>",
            ))
        else:
            fig.add_trace(go.Splom(
                dimensions=[{"label": str(o), "values": [r.values[i] for r in rows]}  # type: ignore[index]
                            for i, o in enumerate(data.objectives)],
                name=label, marker={"color": color, "size": 7}, diagonal_visible=False,
                text=hover, hovertemplate="%{text}<extra></extra>",
            ))
    if len(names) == 2:
        fig.update_layout(xaxis_title=str(data.objectives[0]), yaxis_title=str(data.objectives[1]))
    fig.update_layout(height=HEIGHT if len(names) == 2 else 220 * len(names), title=TITLE)
    return FigureBlock(KEY, TITLE, fig)
