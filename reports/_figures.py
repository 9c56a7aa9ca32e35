"""Plotly figures built from :class:`reports._data.StudyData`, never from the study itself.

Each figure comes in a :class:`FigureBlock` with a title and, where the data cannot support
the figure (no complete trials yet, too few for importances), a note saying why instead of
an exception: a report of a young study is still worth reading.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports._analysis_figures import analysis_figures
from reports._block import FRONT_COLOR, HEIGHT, OTHER_COLOR, TRIAL_COLOR, FigureBlock, no_complete, trial_hover
from reports._data import ParamAxis, StudyData, TrialRow

STATE_STYLE: dict[str, dict[str, Any]] = {
    "COMPLETE": {"color": TRIAL_COLOR, "dash": "solid"},
    "PRUNED": {"color": FRONT_COLOR, "dash": "dash"},
}
OTHER_STYLE: dict[str, Any] = {"color": OTHER_COLOR, "dash": "dot"}  # FAIL, RUNNING, WAITING


def build_figures(data: StudyData) -> tuple[FigureBlock, ...]:
    """Pareto front, optimisation history, importances, parallel coordinates, intermediate values,
    then the analyses of :func:`reports._analysis_figures.analysis_figures`."""
    return (
        pareto_figure(data),
        history_figure(data),
        importance_figure(data),
        parallel_figure(data),
        intermediate_figure(data),
        *analysis_figures(data.analyses),
    )


def _hover(row: TrialRow, names: Sequence[str]) -> str:
    return trial_hover(row.number, dict(zip(names, row.values or ())), row.params)


def pareto_figure(data: StudyData) -> FigureBlock:
    """Objective values of complete trials, the Pareto front in red.

    Two objectives: a scatter plot. Three or more: a scatter matrix, because a trial on the
    front may look dominated in any single pair of objectives.
    """
    key, title = "pareto", "Pareto front"
    done = [r for r in data.trials if r.values is not None]
    if not done:
        return no_complete(key, title)
    if len(data.objectives) < 2:
        return FigureBlock(key, title, None, "single-objective study: see the optimisation history")
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
    fig.update_layout(height=HEIGHT if len(names) == 2 else 220 * len(names), title=title)
    return FigureBlock(key, title, fig)


def _stacked_height(rows: int) -> int:
    return max(HEIGHT, 260 * rows)


def history_figure(data: StudyData) -> FigureBlock:
    """Each objective per trial number, with the best value found so far."""
    key, title = "history", "Optimisation history"
    if not any(h.numbers for h in data.histories):
        return no_complete(key, title)
    fig = make_subplots(rows=len(data.histories), cols=1, shared_xaxes=True,
                        subplot_titles=[str(h.objective) for h in data.histories])
    for i, h in enumerate(data.histories, start=1):
        fig.add_trace(go.Scatter(x=h.numbers, y=h.values, mode="markers", name="trial",
                                 marker={"color": STATE_STYLE["COMPLETE"]["color"]},
                                 legendgroup="trial", showlegend=i == 1), row=i, col=1)
        fig.add_trace(go.Scatter(x=h.numbers, y=h.best, mode="lines", name="best so far",
                                 line={"color": FRONT_COLOR, "shape": "hv"},
                                 legendgroup="best", showlegend=i == 1), row=i, col=1)
    fig.update_xaxes(title_text="trial", row=len(data.histories), col=1)
    fig.update_layout(height=_stacked_height(len(data.histories)), title=title)
    return FigureBlock(key, title, fig)


def importance_figure(data: StudyData) -> FigureBlock:
    """PED-ANOVA importance of each parameter, one bar chart per objective."""
    key, title = "importance", "Parameter importances"
    shown = [imp for imp in data.importances if imp.importances]
    notes = sorted({f"{imp.objective.metric}: {imp.note}" for imp in data.importances if imp.note})
    note = "; ".join(notes) if notes else None
    if not shown:
        # The same reason for every objective reads better once.
        reasons = {imp.note for imp in data.importances if imp.note}
        return FigureBlock(key, title, None, reasons.pop() if len(reasons) == 1 else note)
    fig = make_subplots(rows=1, cols=len(shown), subplot_titles=[str(imp.objective) for imp in shown])
    for col, imp in enumerate(shown, start=1):
        names = list(imp.importances)[::-1]  # largest on top
        fig.add_trace(go.Bar(x=[imp.importances[n] for n in names], y=names, orientation="h",
                             marker={"color": STATE_STYLE["COMPLETE"]["color"]}, showlegend=False,
                             hovertemplate="%{y}: %{x:.3f}<extra></extra>"), row=1, col=col)
        fig.update_xaxes(title_text="importance", range=[0, 1], row=1, col=col)
    fig.update_layout(height=HEIGHT, title=title)
    return FigureBlock(key, title, fig, note)


def _axis_dimension(axis: ParamAxis, values: Sequence[Any]) -> dict[str, Any]:
    if axis.choices is not None:
        index = {c: i for i, c in enumerate(axis.choices)}
        return {"label": axis.name, "values": [index[v] for v in values],
                "tickvals": list(range(len(axis.choices))), "ticktext": [str(c) for c in axis.choices]}
    if axis.log:
        return {"label": f"log10 {axis.name}", "values": [math.log10(v) for v in values]}
    return {"label": axis.name, "values": list(values)}


def parallel_figure(data: StudyData) -> FigureBlock:
    """Parameters and objectives of complete trials, coloured by the first objective."""
    key, title = "parallel", "Parallel coordinates"
    done = [r for r in data.trials if r.values is not None]
    if not done:
        return no_complete(key, title)
    if not data.axes:
        return FigureBlock(key, title, None, "no searched parameters")
    # A trial lacking a parameter (conditional spaces) has no place on that axis.
    rows = [r for r in done if all(a.name in r.params for a in data.axes)]
    left_out = len(done) - len(rows)
    note = f"{left_out} trials without every parameter are left out" if left_out else None
    if not rows:
        return FigureBlock(key, title, None, note)
    dims = [_axis_dimension(a, [r.params[a.name] for r in rows]) for a in data.axes]
    dims += [{"label": str(o), "values": [r.values[i] for r in rows]}  # type: ignore[index]
             for i, o in enumerate(data.objectives)]
    first = data.objectives[0]
    fig = go.Figure(go.Parcoords(
        dimensions=dims,
        line={"color": [r.values[0] for r in rows], "colorscale": "Viridis",  # type: ignore[index]
              "reversescale": first.direction == "minimize", "showscale": True,
              "colorbar": {"title": {"text": first.metric}}},
    ))
    fig.update_layout(height=HEIGHT, title=title)
    return FigureBlock(key, title, fig, note)


def intermediate_figure(data: StudyData) -> FigureBlock:
    """The pruning metric per step of each trial; pruned trials dashed red."""
    key, title = "intermediate", "Intermediate values"
    if not data.series:
        return FigureBlock(key, title, None, "no trial reported intermediate values (no pruner, or none ran yet)")
    metric = data.attrs.get("pruning_metric") or "intermediate value"
    per_question = data.attrs.get("pruner") == "wilcoxon"
    step = "question" if per_question else "epoch"
    per_epoch = 1 if per_question else int(data.attrs.get("checks_per_epoch") or 1)  # step j = j / k epochs
    fig = go.Figure()
    legend_shown: set[str] = set()
    for s in data.series:
        style = STATE_STYLE.get(s.state, OTHER_STYLE)
        fig.add_trace(go.Scatter(
            x=[x / per_epoch for x in s.steps], y=s.values, mode="lines+markers", name=s.state,
            line={"color": style["color"], "dash": style["dash"]},
            legendgroup=s.state, showlegend=s.state not in legend_shown,
            hovertemplate=f"trial {s.number} ({s.state})<br>{step} %{{x}}: %{{y:.4g}}<extra></extra>",
        ))
        legend_shown.add(s.state)
    fig.update_layout(height=HEIGHT, title=title, xaxis_title=step, yaxis_title=metric)
    return FigureBlock(key, title, fig)
