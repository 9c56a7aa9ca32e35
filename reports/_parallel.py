"""Parallel coordinates: the searched parameters and objectives of each complete trial, one line per trial.

Lines are coloured by the first objective; categorical parameters get one tick per choice and
log-scale parameters a log10 axis. The base model has no parameters and is left out.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import optuna
import plotly.graph_objects as go
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from reports._block import HEIGHT, FigureBlock, no_complete
from reports._rows import ParamAxis, StudyRows, scored

KEY, TITLE = "parallel", "Parallel coordinates"


def param_axes(study: optuna.Study) -> tuple[ParamAxis, ...]:
    """One axis per searched parameter, sorted by name; the latest distribution wins."""
    dists: dict[str, BaseDistribution] = {}
    for trial in study.get_trials(deepcopy=False):
        dists.update(trial.distributions)
    axes = []
    for name in sorted(dists):
        dist = dists[name]
        if isinstance(dist, CategoricalDistribution):
            axes.append(ParamAxis(name, False, tuple(dist.choices)))
        elif isinstance(dist, (FloatDistribution, IntDistribution)):
            axes.append(ParamAxis(name, dist.log, None))
    return tuple(axes)


def _axis_dimension(axis: ParamAxis, values: Sequence[Any]) -> dict[str, Any]:
    if axis.choices is not None:
        index = {c: i for i, c in enumerate(axis.choices)}
        return {"label": axis.name, "values": [index[v] for v in values],
                "tickvals": list(range(len(axis.choices))), "ticktext": [str(c) for c in axis.choices]}
    if axis.log:
        return {"label": f"log10 {axis.name}", "values": [math.log10(v) for v in values]}
    return {"label": axis.name, "values": list(values)}


def figure(data: StudyRows) -> FigureBlock:
    """Parameters (``data.axes``) and objectives of complete trials, coloured by the first objective."""
    done = scored(data.trials)
    if not done:
        return no_complete(KEY, TITLE)
    if not data.axes:
        return FigureBlock(KEY, TITLE, None, "no searched parameters")
    # A trial lacking a parameter (conditional spaces) has no place on that axis.
    rows = [r for r in done if all(a.name in r.params for a in data.axes)]
    left_out = len(done) - len(rows)
    note = f"{left_out} trials without every parameter are left out" if left_out else None
    if not rows:
        return FigureBlock(KEY, TITLE, None, note)
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
    fig.update_layout(height=HEIGHT, title=TITLE)
    return FigureBlock(KEY, TITLE, fig, note)
