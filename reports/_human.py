"""Human evaluation: the clinicians' mean rating of each rated trial, and how well each automatic metric agrees.

Reads the study attributes ``human_eval`` (trial number -> mean rating and count) and
``human_agreement`` (metric -> Spearman rho with the ratings, over the rated trials) that
``python -m study.human_eval import`` writes. The figure shows the agreement; the tables
list the rated trials beside their objectives, then each metric's rho.
"""

from __future__ import annotations

from html import escape
from typing import Any, Mapping, NamedTuple, Sequence

import plotly.graph_objects as go

from reports._block import FRONT_COLOR, HEIGHT, TRIAL_COLOR, FigureBlock
from reports._cells import num
from reports._cells import table as html_table
from reports._rows import MIN_TRIALS_FOR_CORRELATION, ObjectiveInfo, StudyRows, TrialRow, as_number, objectives_first
from study.core import keys

KEY, TITLE = "human", "Human evaluation"


class HumanRow(NamedTuple):
    number: int
    mean_rating: float
    n: int  # rated answers
    metrics: dict[str, float | None]  # the objectives' validation metrics


class HumanEval(NamedTuple):
    objectives: tuple[str, ...]
    rows: tuple[HumanRow, ...]  # best mean rating first
    agreement: dict[str, float | None]  # Spearman rho of each metric with the ratings, over trials
    note: str | None


def human_evaluation(human_eval: Any, human_agreement: Any, rows: Sequence[TrialRow],
                     objectives: Sequence[ObjectiveInfo]) -> HumanEval:
    """Mean human rating of each rated trial beside its objectives, and each metric's agreement."""
    names = tuple(o.metric for o in objectives)
    if not isinstance(human_eval, Mapping) or not human_eval:
        return HumanEval(names, (), {}, "no human ratings yet: run python -m study.human_eval export, then import")
    by_number = {r.number: r for r in rows}
    out = []
    for key, rating in human_eval.items():
        mean = as_number(rating.get("mean_rating")) if isinstance(rating, Mapping) else None
        if mean is None or not str(key).isdigit():
            continue
        number = int(key)
        metrics = by_number[number].metrics if number in by_number else {}
        out.append(HumanRow(number, mean, int(rating.get("n") or 0), {m: as_number(metrics.get(m)) for m in names}))
    out.sort(key=lambda h: (-h.mean_rating, h.number))
    agreement = dict(human_agreement) if isinstance(human_agreement, Mapping) else {}
    agreement = {m: as_number(agreement[m]) for m in objectives_first(set(agreement), objectives)}
    note = None
    if not agreement:
        note = "no agreement with the automatic metrics recorded (human_agreement)"
    elif all(v is None for v in agreement.values()):
        note = f"agreement needs ratings of at least {MIN_TRIALS_FOR_CORRELATION} trials"
    return HumanEval(names, tuple(out), agreement, note)


def info(data: StudyRows) -> HumanEval:
    attrs = data.attrs
    return human_evaluation(attrs.get(keys.HUMAN_EVAL), attrs.get(keys.HUMAN_AGREEMENT), data.trials, data.objectives)


def figure(h: HumanEval) -> FigureBlock:
    """Spearman agreement of each automatic metric with the mean human rating, over rated trials."""
    shown = {m: v for m, v in h.agreement.items() if v is not None}
    if not h.rows or not shown:
        return FigureBlock(KEY, TITLE, None, h.note)
    names = list(shown)[::-1]  # first metric on top
    fig = go.Figure(go.Bar(
        x=[shown[m] for m in names], y=names, orientation="h",
        marker={"color": [TRIAL_COLOR if shown[m] >= 0 else FRONT_COLOR for m in names]},
        hovertemplate="%{y}: rho %{x:.3f}<extra></extra>",
    ))
    fig.update_layout(height=max(HEIGHT, 28 * len(names) + 160), xaxis={"range": [-1, 1]},
                      title=f"Agreement with human ratings (Spearman rho over {len(h.rows)} rated trials)",
                      xaxis_title="rho")
    return FigureBlock(KEY, TITLE, fig, h.note)


def table(h: HumanEval) -> str:
    """Rated trials, best mean rating first, beside their objectives; then each metric's agreement."""
    if not h.rows:
        return ""
    ratings = html_table(["trial", "mean human rating", "rated answers", *h.objectives],
                         ([str(r.number), num(r.mean_rating), num(r.n), *(num(r.metrics.get(m)) for m in h.objectives)]
                          for r in h.rows))
    if not h.agreement:
        return ratings
    agreement = html_table(["metric", "Spearman rho with human rating"],
                           ([escape(m), num(rho)] for m, rho in h.agreement.items()))
    return ratings + "\n" + agreement
