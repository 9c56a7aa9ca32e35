"""The stopping curve: the first objective's best so far with its interval, and the stopping rule's estimate.

Beside the optimisation history: after each finished fine-tune (complete or pruned, the base model
left out), the best value of the first objective so far and the 95 % interval of that best trial
over its questions; below, what the study's rule (``study.stop``) estimated at each decision, as
the study recorded it (``stop_curve``): for ``patience`` the finished trials since the last clear
improvement, for ``terminator`` the regret bound beside the noise it was compared with. A dashed
line marks where the rule stopped the study (``stop``).
"""

from __future__ import annotations

from html import escape
from typing import Any, NamedTuple

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports._block import FRONT_COLOR, HEIGHT, OTHER_COLOR, TRIAL_COLOR, FigureBlock
from reports._rows import ObjectiveInfo, StudyRows
from study.core import keys

KEY, TITLE = "stopping", "Stopping curve"


class Stopping(NamedTuple):
    objective: ObjectiveInfo | None
    finished: tuple[int, ...]  # 1, 2, ...: finished fine-tunes so far
    best: tuple[float | None, ...]  # best value so far (None until a trial completes)
    low: tuple[float | None, ...]  # the best trial's 95 % interval
    high: tuple[float | None, ...]
    curve: tuple[tuple[int, float, float | None, str], ...]  # (finished, estimate, noise, rule) at each decision
    decision: dict[str, Any] | None  # the decision that stopped the study, if one did
    note: str | None


def info(data: StudyRows) -> Stopping:
    """Best so far of the first objective after each finished fine-tune, and the rule's recorded estimates."""
    objective = data.objectives[0] if data.objectives else None
    done = sorted((r for r in data.trials if r.state in ("COMPLETE", "PRUNED") and not r.is_base),
                  key=lambda r: r.number)
    best_row, best, low, high = None, [], [], []
    for row in done:
        if objective and row.state == "COMPLETE" and row.values is not None:
            better = best_row is None or (row.values[0] > best_row.values[0] if objective.direction == "maximize"
                                          else row.values[0] < best_row.values[0])
            best_row = row if better else best_row
        interval = best_row.intervals.get(objective.metric) if best_row and objective else None
        best.append(best_row.values[0] if best_row else None)
        low.append(interval.low if interval else None)
        high.append(interval.high if interval else None)
    stored = data.attrs.get(keys.STOP_CURVE) or {}
    curve = tuple(sorted((int(n), float(p["estimate"]), p.get("noise"), str(p.get("rule", "")))
                         for n, p in stored.items() if p.get("estimate") is not None))
    decision = data.attrs.get(keys.STOP) if (data.attrs.get(keys.STOP) or {}).get("stop") else None
    note = None
    if not done:
        note = "no finished trials yet"
    elif not curve:
        note = "the study has no stopping rule (study.stop), or it has not judged yet (min_trials)"
    return Stopping(objective, tuple(range(1, len(done) + 1)), tuple(best), tuple(low), tuple(high), curve,
                    decision, note)


def figure(s: Stopping) -> FigureBlock:
    if not s.finished or s.objective is None:
        return FigureBlock(KEY, TITLE, None, s.note)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True,
                        subplot_titles=[f"best {s.objective.metric} so far, with its 95 % interval",
                                        "the stopping rule's estimate"])
    x = list(s.finished)
    fig.add_trace(go.Scatter(x=x + x[::-1], y=list(s.high) + list(s.low)[::-1], fill="toself", name="95 % interval",
                             fillcolor=FRONT_COLOR, opacity=0.15, line={"width": 0}, hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=list(s.best), mode="lines", name="best so far",
                             line={"color": FRONT_COLOR, "shape": "hv"}), row=1, col=1)
    if s.curve:
        rule = s.curve[-1][3]
        label = "trials since the last clear improvement" if rule == "patience" else "regret bound"
        fig.add_trace(go.Scatter(x=[c[0] for c in s.curve], y=[c[1] for c in s.curve], mode="lines+markers",
                                 name=label, line={"color": TRIAL_COLOR}), row=2, col=1)
        if rule == "terminator":
            fig.add_trace(go.Scatter(x=[c[0] for c in s.curve], y=[c[2] for c in s.curve], mode="lines",
                                     name="noise (stop below it)", line={"color": OTHER_COLOR, "dash": "dot"}),
                          row=2, col=1)
    if s.decision:
        for row in (1, 2):
            fig.add_vline(x=s.decision["finished"], line={"color": OTHER_COLOR, "dash": "dash"}, row=row, col=1)
    fig.update_xaxes(title_text="finished trials", row=2, col=1)
    fig.update_layout(height=max(HEIGHT, 520), title=TITLE)
    return FigureBlock(KEY, TITLE, fig, s.note)


def table(s: Stopping) -> str | None:
    if not s.decision:
        return None
    d = s.decision
    return (f"<p>The study stopped itself after {int(d['finished'])} finished trials (rule "
            f"<code>{escape(str(d['rule']))}</code>, best trial {escape(str(d['best']))}): "
            f"{escape(str(d['reason']))}.</p>")
