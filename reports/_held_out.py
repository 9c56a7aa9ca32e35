"""Base model versus the best trials on the test split: one bar chart per metric, and a table of gains.

Reads the ``test_scores`` study attribute that ``python -m study.export`` writes: the base
model (key ``base``) and each exported trial (key: its number), scored on the test split that
no trial saw during the search.
"""

from __future__ import annotations

from html import escape
from typing import Any, Mapping, NamedTuple, Sequence

import plotly.graph_objects as go

from reports._block import GROUP_COLORS, OTHER_COLOR, FigureBlock, grid
from reports._cells import fmt, num
from reports._cells import table as html_table
from reports._rows import ObjectiveInfo, StudyRows, as_number, objectives_first
from study.core import keys

KEY, TITLE = "test", "Base model versus best trials (test split)"
BASE = "base"  # key of the base model in the ``test_scores`` study attribute


class HeldOutRow(NamedTuple):
    """Test-split scores of the base model (``number`` None) or of one exported trial."""

    label: str  # "base model" or "trial 7"
    number: int | None
    scores: dict[str, float | None]
    gains: dict[str, float | None]  # score minus the base model's; empty for the base row


class HeldOut(NamedTuple):
    metrics: tuple[str, ...]  # objectives first, then the other metrics by name
    rows: tuple[HeldOutRow, ...]  # base model first, then trials by number
    note: str | None


def held_out_scores(test_scores: Any, objectives: Sequence[ObjectiveInfo]) -> HeldOut:
    """The ``test_scores`` study attribute as rows: base model first, then trials by number."""
    if not isinstance(test_scores, Mapping) or not test_scores:
        return HeldOut((), (), "no test-split scores yet: run python -m study.export")
    scores = {str(key): {m: as_number(v) for m, v in value.items()}
              for key, value in test_scores.items() if isinstance(value, Mapping)}
    base = scores.get(BASE)
    rows = [HeldOutRow("base model", None, base, {})] if base is not None else []
    for number in sorted(int(k) for k in scores if k.isdigit()):
        trial = scores[str(number)]
        gains = {m: _gain(v, base.get(m)) for m, v in trial.items()} if base is not None else {}
        rows.append(HeldOutRow(f"trial {number}", number, trial, gains))
    metrics = objectives_first({m for r in rows for m, v in r.scores.items() if v is not None}, objectives)
    note = None if base is not None else "the base model was not scored: gains cannot be shown"
    return HeldOut(metrics, tuple(rows), note)


def _gain(value: float | None, base: float | None) -> float | None:
    return value - base if value is not None and base is not None else None


def info(data: StudyRows) -> HeldOut:
    return held_out_scores(data.attrs.get(keys.TEST_SCORES), data.objectives)


def figure(h: HeldOut) -> FigureBlock:
    """One bar chart per metric: the base model in grey beside each exported trial."""
    if not h.rows or not h.metrics:
        return FigureBlock(KEY, TITLE, None, h.note or "no numeric test scores")
    fig, cells = grid(h.metrics)
    trial_colors = iter(GROUP_COLORS * len(h.rows))
    for row in h.rows:
        color = OTHER_COLOR if row.number is None else next(trial_colors)
        for i, (metric, (r, c)) in enumerate(zip(h.metrics, cells)):
            fig.add_trace(go.Bar(
                x=[row.label], y=[row.scores.get(metric)], name=row.label, marker={"color": color},
                legendgroup=row.label, showlegend=i == 0,
                hovertemplate=f"{row.label}<br>{metric}: %{{y:.4g}}<extra></extra>",
            ), row=r, col=c)
    fig.update_layout(title=TITLE, barmode="group")
    return FigureBlock(KEY, TITLE, fig, h.note)


def _with_gain(value: float | None, gain: float | None) -> str:
    """A test score with its difference to the base model below it."""
    if gain is None:
        return num(value)
    return f'<span class="num">{fmt(value)}<br><span class="gain">{gain:+.3g} vs base</span></span>'


def table(h: HeldOut) -> str:
    """Test-split score of the base model and of each exported trial, with the gain over the base."""
    if not h.rows:
        return ""
    return html_table(["model", *h.metrics],
                      ([escape(r.label), *(_with_gain(r.scores.get(m), r.gains.get(m)) for m in h.metrics)]
                       for r in h.rows))
