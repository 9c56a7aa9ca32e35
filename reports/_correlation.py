"""Metric correlations: how far the automatic metrics agree, as Spearman's rho over the COMPLETE trials.

A heatmap of every pair of numeric metrics (+1 blue, -1 red); a pair is correlated over the
trials that recorded both, and left blank where fewer than
:data:`~reports._rows.MIN_TRIALS_FOR_CORRELATION` did.
"""

from __future__ import annotations

import math
from typing import Mapping, NamedTuple, Sequence

import plotly.graph_objects as go
from scipy.stats import spearmanr

from reports._block import HEIGHT, FigureBlock
from reports._rows import (
    MIN_TRIALS_FOR_CORRELATION,
    ObjectiveInfo,
    StudyRows,
    TrialRow,
    as_number,
    complete,
    objectives_first,
)

KEY, TITLE = "correlation", "Metric correlations (Spearman, COMPLETE trials)"


class Correlations(NamedTuple):
    """Spearman rank correlation of every pair of numeric metrics over COMPLETE trials."""

    metrics: tuple[str, ...]
    rho: tuple[tuple[float | None, ...], ...]  # rho[i][j] for metrics i and j; None: too few pairs
    n_trials: int
    note: str | None


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman rank correlation (ties get their mean rank); None for fewer than 3 pairs or a constant side."""
    if len(x) < MIN_TRIALS_FOR_CORRELATION or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    return float(spearmanr(x, y).statistic)


def metric_correlations(rows: Sequence[TrialRow], objectives: Sequence[ObjectiveInfo]) -> Correlations:
    """Each pair of metrics is correlated over the trials that recorded both.

    Metrics that never vary (``general_accuracy_base``) or that fewer than 3 trials recorded
    are left out, and named in the note.
    """
    done = complete(rows)
    if len(done) < MIN_TRIALS_FOR_CORRELATION:
        note = f"needs at least {MIN_TRIALS_FOR_CORRELATION} COMPLETE trials; the study has {len(done)}"
        return Correlations((), (), len(done), note)
    columns: dict[str, dict[int, float]] = {}  # metric -> {trial number: value}
    for r in done:
        for name, value in r.metrics.items():
            if (v := as_number(value)) is not None:
                columns.setdefault(name, {})[r.number] = v
    usable = {n for n, c in columns.items() if len(c) >= MIN_TRIALS_FOR_CORRELATION and len(set(c.values())) > 1}
    metrics = objectives_first(usable, objectives)
    rho = tuple(tuple(_pair(columns[a], columns[b]) for b in metrics) for a in metrics)
    left_out = sorted(set(columns) - usable)
    note = None
    if left_out:
        note = (f"left out (constant, or recorded by fewer than {MIN_TRIALS_FOR_CORRELATION} trials): "
                f"{', '.join(left_out)}")
    return Correlations(metrics, rho, len(done), note)


def _pair(a: Mapping[int, float], b: Mapping[int, float]) -> float | None:
    shared = sorted(a.keys() & b.keys())
    return spearman([a[n] for n in shared], [b[n] for n in shared])


def info(data: StudyRows) -> Correlations:
    return metric_correlations(data.trials, data.objectives)


def figure(c: Correlations) -> FigureBlock:
    """Heatmap of Spearman's rho between metrics: +1 blue, -1 red, blank where too few pairs."""
    if not c.metrics:
        return FigureBlock(KEY, TITLE, None, c.note or "no numeric metrics recorded")
    z = [[v if v is not None else math.nan for v in row] for row in c.rho]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(c.metrics), y=list(c.metrics), zmin=-1, zmax=1, colorscale="RdBu",
        texttemplate="%{z:.2f}", colorbar={"title": {"text": "rho"}},
        hovertemplate="%{y} vs %{x}: rho %{z:.3f}<extra></extra>",
    ))
    side = max(HEIGHT, 40 * len(c.metrics) + 200)
    fig.update_layout(height=side, title=f"{TITLE}: {c.n_trials} trials", yaxis_autorange="reversed")
    return FigureBlock(KEY, TITLE, fig, c.note)


def table(c: Correlations) -> None:
    """No table: the heatmap writes each rho in its cell."""
    return None
