"""Forgetting versus domain gain: general-medicine quiz accuracy after tuning against the domain metric.

Each COMPLETE trial is a point; a dashed line marks the base model's accuracy on the same
quiz. The metrics ``general_accuracy`` and ``general_accuracy_base`` are recorded only when
the search space sets ``evaluation.general_questions > 0``.
"""

from __future__ import annotations

import statistics
from typing import NamedTuple, Sequence

import plotly.graph_objects as go

from reports._block import FRONT_COLOR, HEIGHT, TRIAL_COLOR, FigureBlock
from reports._rows import DOMAIN_METRIC, StudyRows, TrialRow, as_number, complete
from reports._scatter import Point, points, scatter

KEY, TITLE = "forgetting", "Forgetting versus domain gain"


class Forgetting(NamedTuple):
    """General-medicine quiz accuracy after tuning (y) against the domain metric (x)."""

    x_metric: str
    points: tuple[Point, ...]
    base_accuracy: float | None  # the same quiz answered by the base model
    note: str | None


def forgetting(rows: Sequence[TrialRow], x_metric: str = DOMAIN_METRIC) -> Forgetting:
    """Quiz accuracy after tuning against the domain metric, with the base model's accuracy.

    The base accuracy is the mean of ``general_accuracy_base`` over the trials; every worker
    scores the same base model on the same quiz, so the values agree.
    """
    done = complete(rows)
    base_values = [v for r in done if (v := as_number(r.metrics.get("general_accuracy_base"))) is not None]
    base = statistics.fmean(base_values) if base_values else None
    if not any(as_number(r.metrics.get("general_accuracy")) is not None for r in done):
        note = "no COMPLETE trial recorded general_accuracy (set evaluation.general_questions > 0)"
        return Forgetting(x_metric, (), base, note)
    pts = points(done, x_metric, "general_accuracy")
    left_out = sum(as_number(r.metrics.get("general_accuracy")) is not None for r in done) - len(pts)
    note = f"{left_out} trials without {x_metric} are left out" if left_out else None
    return Forgetting(x_metric, pts, base, note)


def info(data: StudyRows) -> Forgetting:
    return forgetting(data.trials)


def figure(f: Forgetting) -> FigureBlock:
    """General-medicine accuracy after tuning against the domain metric; dashed: the base model."""
    if not f.points:
        return FigureBlock(KEY, TITLE, None, f.note)
    fig = go.Figure(scatter(f.points, f.x_metric, "general_accuracy", "trial", TRIAL_COLOR))
    if f.base_accuracy is not None:
        fig.add_hline(y=f.base_accuracy, line={"color": FRONT_COLOR, "dash": "dash"},
                      annotation_text=f"base model {f.base_accuracy:.3g}", annotation_position="top left")
    fig.update_layout(height=HEIGHT, title=TITLE, xaxis_title=f.x_metric,
                      yaxis_title="general_accuracy (quiz, after tuning)")
    return FigureBlock(KEY, TITLE, fig, f.note)


def table(f: Forgetting) -> None:
    """No table: each trial's values are in its hover text."""
    return None
