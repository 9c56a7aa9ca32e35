"""The clinicians' review: how often each configuration is right or harmful against the base, and which metric to trust.

Reads the study attribute ``review_results`` that ``python -m study.review results`` writes
(from the ratings made in optuna-dashboard or imported from sheets by ``study.human_eval``).
The figure shows, per reviewed configuration and base model, the share of answers rated
correct and the share rated harmful with their 95 % intervals, and beside it each automatic
metric's Spearman correlation with the raters' verdict per answer (higher: ranks answers
as the raters do). The tables give the paired differences against the base model, the
agreement between raters and the answers they disagree on.
"""

from __future__ import annotations

from html import escape
from typing import Any, Mapping, NamedTuple

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports._block import HEIGHT, OTHER_COLOR, TRIAL_COLOR, FigureBlock
from reports._cells import table as html_table
from reports._rows import StudyRows
from study.core import keys

KEY, TITLE = "review", "Clinicians' review"
NO_DATA = ("no clinicians' review yet: python -m study.review start --rater NAME makes a blinded review in "
           "optuna-dashboard, python -m study.review results unblinds it")
SHOWN_DISAGREEMENTS = 12


class Review(NamedTuple):
    results: Mapping[str, Any]  # review_results as stored; empty without a review
    note: str | None


def info(data: StudyRows) -> Review:
    res = data.attrs.get(keys.REVIEW_RESULTS)
    if not isinstance(res, Mapping) or not res.get("arms"):
        return Review({}, NO_DATA)
    return Review(res, None)


def _bounds(d: Mapping[str, Any] | None) -> tuple[float | None, float | None, float | None]:
    if not isinstance(d, Mapping):
        return None, None, None
    return d.get("estimate"), d.get("low"), d.get("high")


def _error_bars(entries: list[Mapping[str, Any] | None]) -> dict[str, Any]:
    est = [_bounds(e)[0] for e in entries]
    return {"type": "data", "symmetric": False,
            "array": [(h - x) if x is not None and h is not None else 0 for x, (_, _, h) in zip(est, map(_bounds, entries))],
            "arrayminus": [(x - lo) if x is not None and lo is not None else 0
                           for x, (_, lo, _) in zip(est, map(_bounds, entries))]}


def figure(r: Review) -> FigureBlock:
    """Shares correct and harmful per arm with intervals; each metric's agreement with the raters."""
    if not r.results:
        return FigureBlock(KEY, TITLE, None, r.note)
    arms = list(r.results["arms"])
    metrics = list(r.results.get("metrics") or [])
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4],
                        subplot_titles=["share of answers (95 % interval)",
                                        "metric vs raters (Spearman over answers)"])
    for name, color in (("correct", TRIAL_COLOR), ("harmful", "#d62728")):
        entries = [r.results["arms"][a].get(name) for a in arms]
        fig.add_trace(go.Bar(y=arms, x=[_bounds(e)[0] for e in entries], orientation="h", name=f"share {name}",
                             marker={"color": color}, error_x=_error_bars(entries),
                             hovertemplate="%{y}: %{x:.2f}<extra>" + name + "</extra>"), row=1, col=1)
    if metrics:
        names = [m["metric"] for m in metrics][::-1]
        fig.add_trace(go.Bar(y=names, x=[m.get("estimate") for m in metrics][::-1], orientation="h",
                             name="Spearman rho", marker={"color": OTHER_COLOR},
                             error_x=_error_bars(metrics[::-1]),
                             hovertemplate="%{y}: rho %{x:.2f}<extra></extra>"), row=1, col=2)
    raters = ", ".join(r.results.get("raters") or {})
    fig.update_layout(barmode="group", height=max(HEIGHT, 40 * len(arms) + 200),
                      title=f"Clinicians' review ({raters}; {r.results.get('units')} answers rated)")
    fig.update_xaxes(range=[0, 1], row=1, col=1)
    fig.update_xaxes(range=[-1, 1], row=1, col=2)
    return FigureBlock(KEY, TITLE, fig, None)


def _interval(d: Mapping[str, Any] | None, signed: bool = False) -> str:
    est, low, high = _bounds(d)
    if est is None:
        return "-"
    f = "{:+.2f}" if signed else "{:.2f}"
    show = (lambda v: "-" if v is None else f.format(v))
    return f'<span class="num">{f.format(est)} [{show(low)}, {show(high)}]</span>'


def table(r: Review) -> str | None:
    if not r.results:
        return None
    arms = html_table(
        ["answers of", "questions", "correct", "vs base", "harmful", "vs base", "too short", "right length", "too long"],
        ([escape(a), str(e.get("questions")), _interval(e.get("correct")), _interval((e.get("vs_base") or {}).get("correct"), True),
          _interval(e.get("harmful")), _interval((e.get("vs_base") or {}).get("harmful"), True),
          _interval(e.get("too short")), _interval(e.get("right length")), _interval(e.get("too long"))]
         for a, e in r.results["arms"].items()))
    parts = [arms]
    agreement = r.results.get("agreement") or {}
    if agreement:
        parts.append(html_table(["criterion", "agreement between raters", "95 % interval"],
                                ([escape(c), escape(a["statistic"].replace("_", " ")), _interval(a, True)]
                                 for c, a in agreement.items())))
    else:
        parts.append("<p>Agreement between raters: needs two raters on the same answers.</p>")
    metrics = r.results.get("metrics") or []
    if metrics:
        parts.append(html_table(["metric", "Spearman rho with the raters' verdict [95 %]"],
                                ([escape(m["metric"]), _interval(m, True)] for m in metrics)))
    disagreements = r.results.get("disagreements") or []
    if disagreements:
        parts.append(f"<p>The raters disagree on {len(disagreements)} answers (correct or harmful); the first "
                     f"{min(len(disagreements), SHOWN_DISAGREEMENTS)}:</p>")
        parts.append(html_table(["answers of", "question", "ratings (correct / harmful / length)", "comments"],
                                ([escape(d["arm"]), str(d["question"] + 1),
                                  "<br>".join(escape(f"{n}: {v}") for n, v in d["ratings"].items()),
                                  "<br>".join(escape(f"{n}: {v}") for n, v in (d.get("comments") or {}).items())]
                                 for d in disagreements[:SHOWN_DISAGREEMENTS])))
    return "\n".join(parts)
