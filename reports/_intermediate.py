"""Intermediate values: the pruning metric per epoch (or per question) of each trial, pruned trials dashed red.

Optuna refuses ``Trial.report`` in multi-objective studies, so a main-study trial without
intermediate values of its own borrows those of its pruning trial in the ``<name>.pruning`` study.
"""

from __future__ import annotations

from typing import Any

import optuna
import plotly.graph_objects as go

from reports._block import FRONT_COLOR, HEIGHT, OTHER_COLOR, TRIAL_COLOR, FigureBlock
from reports._rows import Series, StudyRows
from study import pruners
from study.core import keys

KEY, TITLE = "intermediate", "Intermediate values"
STATE_STYLE: dict[str, dict[str, Any]] = {
    "COMPLETE": {"color": TRIAL_COLOR, "dash": "solid"},
    "PRUNED": {"color": FRONT_COLOR, "dash": "dash"},
}
OTHER_STYLE: dict[str, Any] = {"color": OTHER_COLOR, "dash": "dot"}  # FAIL, RUNNING, WAITING


def intermediate_series(study: optuna.Study, pruning_study: optuna.Study | None = None) -> tuple[Series, ...]:
    """The pruning metric per step of every trial that reported one, pruned trials included.

    A trial without intermediate values of its own borrows those of its pruning trial in
    ``pruning_study``, the ``<name>.pruning`` study the pruner works on: the one its user attribute
    ``pruning_trial`` (``pruning_twin`` in older studies) names, else the one whose
    ``trial_number`` names it.
    """
    pruning = pruning_study.get_trials(deepcopy=False) if pruning_study else []
    pruning_values = {t.number: t.intermediate_values for t in pruning}
    named = {t.user_attrs[keys.MAIN_TRIAL]: t.intermediate_values for t in pruning
             if isinstance(t.user_attrs.get(keys.MAIN_TRIAL), int)}
    out = []
    for trial in study.get_trials(deepcopy=False):
        number = keys.pruning_trial_number(trial.user_attrs)
        values = trial.intermediate_values or (pruning_values.get(number, {}) if number is not None else named.get(trial.number, {}))
        if values:
            steps = tuple(sorted(values))
            out.append(Series(trial.number, trial.state.name, steps, tuple(values[s] for s in steps)))
    return tuple(out)


def figure(data: StudyRows) -> FigureBlock:
    """One line per trial of ``data.series``; the x axis in epochs, or questions for a per-question pruner."""
    if not data.series:
        return FigureBlock(KEY, TITLE, None, "no trial reported intermediate values (no pruner, or none ran yet)")
    metric = data.attrs.get(keys.PRUNING_METRIC) or "intermediate value"
    step = pruners.stored_unit(data.attrs)
    per_question = step == pruners.QUESTION
    per_epoch = 1 if per_question else int(data.attrs.get(keys.CHECKS_PER_EPOCH) or 1)  # step j = j / k epochs
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
    fig.update_layout(height=HEIGHT, title=TITLE, xaxis_title=step, yaxis_title=metric)
    return FigureBlock(KEY, TITLE, fig)
