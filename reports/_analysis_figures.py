"""Plotly figures of the clinical analyses, built from :class:`reports._analysis.Analyses`.

As in :mod:`reports._figures`, a figure the data cannot support (no test scores yet, no
human ratings, too few trials) becomes a :class:`FigureBlock` with a note instead. The
tables that go with some of these figures are written by :mod:`reports._html`.
"""

from __future__ import annotations

import math
from typing import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports._analysis import (
    PRETRAIN_OFF,
    Analyses,
    Correlations,
    Forgetting,
    HeldOut,
    HumanEval,
    LengthTradeoff,
    Point,
    Pretraining,
)
from reports._block import FRONT_COLOR, HEIGHT, OTHER_COLOR, TRIAL_COLOR, FigureBlock, trial_hover

#: Subplots per row in the per-metric and per-objective grids.
GRID_COLUMNS = 3
# Colours of successive groups (answer styles, exported trials), after plotly's default cycle.
GROUP_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def analysis_figures(a: Analyses) -> tuple[FigureBlock, ...]:
    """Metric correlations, test split, forgetting, continued pre-training, answer length, human ratings."""
    return (
        correlation_figure(a.correlations),
        held_out_figure(a.held_out),
        forgetting_figure(a.forgetting),
        pretraining_figure(a.pretraining),
        length_figure(a.lengths),
        human_figure(a.human),
    )


def _grid(titles: Sequence[str]) -> tuple[go.Figure, list[tuple[int, int]]]:
    """Subplots in rows of :data:`GRID_COLUMNS`, each with its own y axis, and their (row, col)."""
    cols = min(len(titles), GRID_COLUMNS)
    rows = math.ceil(len(titles) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles), vertical_spacing=0.3 / rows)
    fig.update_layout(height=max(HEIGHT, 320 * rows))
    return fig, [(i // cols + 1, i % cols + 1) for i in range(len(titles))]


def correlation_figure(c: Correlations) -> FigureBlock:
    """Heatmap of Spearman's rho between metrics: +1 blue, -1 red, blank where too few pairs."""
    key, title = "correlation", "Metric correlations (Spearman, COMPLETE trials)"
    if not c.metrics:
        return FigureBlock(key, title, None, c.note or "no numeric metrics recorded")
    z = [[v if v is not None else math.nan for v in row] for row in c.rho]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(c.metrics), y=list(c.metrics), zmin=-1, zmax=1, colorscale="RdBu",
        texttemplate="%{z:.2f}", colorbar={"title": {"text": "rho"}},
        hovertemplate="%{y} vs %{x}: rho %{z:.3f}<extra></extra>",
    ))
    side = max(HEIGHT, 40 * len(c.metrics) + 200)
    fig.update_layout(height=side, title=f"{title}: {c.n_trials} trials", yaxis_autorange="reversed")
    return FigureBlock(key, title, fig, c.note)


def held_out_figure(h: HeldOut) -> FigureBlock:
    """One bar chart per metric: the base model in grey beside each exported trial."""
    key, title = "test", "Base model versus best trials (test split)"
    if not h.rows or not h.metrics:
        return FigureBlock(key, title, None, h.note or "no numeric test scores")
    fig, cells = _grid(h.metrics)
    trial_colors = iter(GROUP_COLORS * len(h.rows))
    for row in h.rows:
        color = OTHER_COLOR if row.number is None else next(trial_colors)
        for i, (metric, (r, c)) in enumerate(zip(h.metrics, cells)):
            fig.add_trace(go.Bar(
                x=[row.label], y=[row.scores.get(metric)], name=row.label, marker={"color": color},
                legendgroup=row.label, showlegend=i == 0,
                hovertemplate=f"{row.label}<br>{metric}: %{{y:.4g}}<extra></extra>",
            ), row=r, col=c)
    fig.update_layout(title=title, barmode="group")
    return FigureBlock(key, title, fig, h.note)


def _scatter(points: Sequence[Point], x_name: str, y_name: str, name: str, color: str) -> go.Scatter:
    return go.Scatter(
        x=[p.x for p in points], y=[p.y for p in points], mode="markers", name=name,
        marker={"color": color, "size": 9},
        text=[trial_hover(p.number, {x_name: p.x, y_name: p.y}, p.params) for p in points],
        hovertemplate="%{text}<extra></extra>",
    )


def forgetting_figure(f: Forgetting) -> FigureBlock:
    """General-medicine accuracy after tuning against the domain metric; dashed: the base model."""
    key, title = "forgetting", "Forgetting versus domain gain"
    if not f.points:
        return FigureBlock(key, title, None, f.note)
    fig = go.Figure(_scatter(f.points, f.x_metric, "general_accuracy", "trial", TRIAL_COLOR))
    if f.base_accuracy is not None:
        fig.add_hline(y=f.base_accuracy, line={"color": FRONT_COLOR, "dash": "dash"},
                      annotation_text=f"base model {f.base_accuracy:.3g}", annotation_position="top left")
    fig.update_layout(height=HEIGHT, title=title, xaxis_title=f.x_metric,
                      yaxis_title="general_accuracy (quiz, after tuning)")
    return FigureBlock(key, title, fig, f.note)


def pretraining_figure(p: Pretraining) -> FigureBlock:
    """Each objective as a box per group (continued pre-training off, on), every trial shown."""
    key, title = "pretraining", "Continued pre-training on / off"
    if not p.comparisons:
        return FigureBlock(key, title, None, p.note)
    fig, cells = _grid([str(c.objective) for c in p.comparisons])
    for comparison, (r, c) in zip(p.comparisons, cells):
        for group in comparison.groups:
            color = OTHER_COLOR if group.label == PRETRAIN_OFF else TRIAL_COLOR
            fig.add_trace(go.Box(
                x=[group.label] * len(group.values), y=list(group.values), name=group.label,
                boxpoints="all", jitter=0.4, pointpos=0, marker={"color": color}, showlegend=False,
                text=[f"trial {n}" for n in group.numbers],
                hovertemplate=f"%{{text}}<br>{comparison.objective.metric}: %{{y:.4g}}<extra></extra>",
            ), row=r, col=c)
    fig.update_layout(title=title)
    return FigureBlock(key, title, fig, p.note)


def length_figure(lengths: LengthTradeoff) -> FigureBlock:
    """Answer length against the domain metric, one colour per answer style."""
    key, title = "length", "Answer length trade-off"
    if not lengths.points or lengths.y_metric is None:
        return FigureBlock(key, title, None, lengths.note)
    groups = sorted({p.group for p in lengths.points}, key=lambda g: (g is None, str(g)))
    fig = go.Figure()
    for group, color in zip(groups, GROUP_COLORS * len(groups)):
        members = [p for p in lengths.points if p.group == group]
        name = "trial" if group is None else f"answer_style {group}"
        fig.add_trace(_scatter(members, lengths.x_metric, lengths.y_metric, name, color))
    fig.update_layout(height=HEIGHT, title=title, xaxis_title=lengths.x_metric, yaxis_title=lengths.y_metric,
                      showlegend=groups != [None])
    return FigureBlock(key, title, fig, lengths.note)


def human_figure(h: HumanEval) -> FigureBlock:
    """Spearman agreement of each automatic metric with the mean human rating, over rated trials."""
    key, title = "human", "Human evaluation"
    shown = {m: v for m, v in h.agreement.items() if v is not None}
    if not h.rows or not shown:
        return FigureBlock(key, title, None, h.note)
    names = list(shown)[::-1]  # first metric on top
    fig = go.Figure(go.Bar(
        x=[shown[m] for m in names], y=names, orientation="h",
        marker={"color": [TRIAL_COLOR if shown[m] >= 0 else FRONT_COLOR for m in names]},
        hovertemplate="%{y}: rho %{x:.3f}<extra></extra>",
    ))
    fig.update_layout(height=max(HEIGHT, 28 * len(names) + 160), xaxis={"range": [-1, 1]},
                      title=f"Agreement with human ratings (Spearman rho over {len(h.rows)} rated trials)",
                      xaxis_title="rho")
    return FigureBlock(key, title, fig, h.note)
