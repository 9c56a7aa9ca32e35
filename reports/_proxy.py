"""Does the pruning metric predict the objectives? Spearman's rho, per check, between the pruning
metric's value at that check and each final objective, over the COMPLETE fine-tuned trials.

The pruner stops trials on the pruning metric (``eval_loss`` after a fraction of an epoch, say),
trusting that it ranks trials as the objectives will at the end. Each rho comes with a 95 %
interval (Fisher z with the standard error 1.06 / sqrt(n − 3) of Fieller, Hartley and
Pearson). The expected sign is + where the pruning metric and the objective improve in the
same direction and − otherwise. A warning names the objectives for which, at a check where
the pruner decided (where it stopped a trial; every check while none was stopped), rho is
weak (|rho| < :data:`WEAK`) or has the wrong sign. For the wilcoxon pruner a step is a
question, and the value is the running mean of the per-question scores so far.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import plotly.graph_objects as go

from objectives import METRICS, spearman
from reports._block import FRONT_COLOR, GROUP_COLORS, HEIGHT, FigureBlock
from reports._cells import fmt
from reports._cells import table as html_table
from reports._rows import ObjectiveInfo, Series, StudyRows, scored
from study.core import keys

KEY, TITLE = "proxy", "Does the pruning metric predict the objectives?"
MIN_TRIALS = 5  # fewer trials at a check give no rho
WEAK = 0.3  # |rho| below this: the pruning metric hardly ranks trials as the objective does


class Rho(NamedTuple):
    rho: float | None  # None: fewer than MIN_TRIALS trials at this check, or a constant side
    low: float | None
    high: float | None
    n: int


class Check(NamedTuple):
    step: int
    at: float  # epoch (step / checks per epoch), or questions scored for the wilcoxon pruner
    decides: bool  # the pruner decided here
    rhos: tuple[Rho, ...]  # one per objective


class Proxy(NamedTuple):
    metric: str
    objectives: tuple[ObjectiveInfo, ...]
    expected: tuple[int | None, ...]  # +1 / -1 per objective; None where the metric's direction is unknown
    unit: str  # "epoch" or "questions"
    checks: tuple[Check, ...]
    warnings: tuple[str, ...]
    note: str | None


def rho_interval(x: Sequence[float], y: Sequence[float]) -> Rho:
    """Spearman's rho of the pairs with its 95 % Fisher-z interval."""
    n = len(x)
    rho = spearman(x, y) if n >= MIN_TRIALS else math.nan
    if not math.isfinite(rho):
        return Rho(None, None, None, n)
    z, half = math.atanh(max(-0.999999, min(0.999999, rho))), 1.959964 * 1.06 / math.sqrt(n - 3)
    return Rho(rho, math.tanh(z - half), math.tanh(z + half), n)


def _values(s: Series, running_mean: bool) -> dict[int, float]:
    if not running_mean:
        return dict(zip(s.steps, s.values))
    return {step: sum(s.values[: i + 1]) / (i + 1) for i, step in enumerate(s.steps)}


def proxy(data: StudyRows) -> Proxy:
    metric = str(data.attrs.get(keys.PRUNING_METRIC) or "intermediate value")
    objectives = data.objectives
    direction = METRICS.get(metric)
    expected = tuple(None if direction is None else (1 if (direction == "max") == (o.direction == "maximize") else -1)
                     for o in objectives)
    wilcoxon = data.attrs.get(keys.PRUNER) == "wilcoxon"
    unit = "questions" if wilcoxon else "epoch"
    series = {s.number: s for s in data.series}
    done = [r for r in scored(data.trials) if r.number in series]
    if len(done) < MIN_TRIALS:
        note = (f"needs at least {MIN_TRIALS} COMPLETE trials with intermediate values to rank; "
                f"the study has {len(done)}")
        return Proxy(metric, objectives, expected, unit, (), (), note)
    values = {r.number: _values(series[r.number], wilcoxon) for r in done}
    pruned_at = {s.steps[-1] for s in data.series if s.state == "PRUNED" and s.steps}
    per_epoch = 1 if wilcoxon else int(data.attrs.get(keys.CHECKS_PER_EPOCH) or 1)
    checks = []
    for step in sorted({st for v in values.values() for st in v}):
        at_step = [r for r in done if step in values[r.number]]
        x = [values[r.number][step] for r in at_step]
        rhos = tuple(rho_interval(x, [r.values[i] for r in at_step])  # type: ignore[index]
                     for i in range(len(objectives)))
        checks.append(Check(step, step + 1 if wilcoxon else step / per_epoch, not pruned_at or step in pruned_at, rhos))
    note = None if pruned_at else "no trial was pruned yet: every check is treated as one where the pruner decides"
    return Proxy(metric, objectives, expected, unit, tuple(checks), _warnings(metric, objectives, expected, unit, checks),
                 note)


def _warnings(metric: str, objectives: Sequence[ObjectiveInfo], expected: Sequence[int | None], unit: str,
              checks: Sequence[Check]) -> tuple[str, ...]:
    out = []
    for i, o in enumerate(objectives):
        bad = []
        for c in (c for c in checks if c.decides):
            r = c.rhos[i]
            if r.rho is None:
                continue
            sign = expected[i]
            why = "weak" if abs(r.rho) < WEAK else "wrong sign" if sign is not None and r.rho * sign < 0 else None
            if why:
                bad.append(f"{unit} {c.at:g}: rho {r.rho:+.2f} [{r.low:+.2f}, {r.high:+.2f}], n {r.n} ({why})")
        if bad:
            sign = {1: "+", -1: "−", None: "?"}[expected[i]]
            out.append(f"warning: where the pruner decides, {metric} predicts {o} weakly or with the wrong sign "
                       f"(expected {sign}): " + "; ".join(bad))
    return tuple(out)


def info(data: StudyRows) -> Proxy:
    return proxy(data)


def figure(p: Proxy) -> FigureBlock:
    """Rho per check for each objective with its 95 % interval; ±0.3 dotted; the pruner's checks ringed."""
    if not p.checks:
        return FigureBlock(KEY, TITLE, None, p.note)
    fig = go.Figure()
    for i, (o, color) in enumerate(zip(p.objectives, GROUP_COLORS * len(p.objectives))):
        pts = [(c, c.rhos[i]) for c in p.checks if c.rhos[i].rho is not None]
        fig.add_trace(go.Scatter(
            x=[c.at for c, _ in pts], y=[r.rho for _, r in pts], mode="lines+markers", name=str(o),
            line={"color": color}, marker={"size": [12 if c.decides else 7 for c, _ in pts],
                                           "line": {"color": FRONT_COLOR, "width": [2 if c.decides else 0 for c, _ in pts]}},
            error_y={"type": "data", "symmetric": False, "array": [r.high - r.rho for _, r in pts],  # type: ignore[operator]
                     "arrayminus": [r.rho - r.low for _, r in pts]},  # type: ignore[operator]
            text=[f"{o}<br>{p.unit} {c.at:g}: rho {r.rho:+.2f} [{r.low:+.2f}, {r.high:+.2f}], n {r.n}" for c, r in pts],
            hovertemplate="%{text}<extra></extra>",
        ))
    for y in (-WEAK, WEAK):
        fig.add_hline(y=y, line={"color": "#888888", "dash": "dot"})
    fig.update_layout(height=HEIGHT, title=TITLE, xaxis_title=p.unit, yaxis={"title": f"Spearman rho of {p.metric}",
                                                                              "range": [-1.05, 1.05]})
    return FigureBlock(KEY, TITLE, fig, "; ".join(x for x in (p.note, *p.warnings) if x) or None)


def _cell(r: Rho) -> str:
    if r.rho is None:
        return f'<span class="num">– (n {r.n})</span>'
    return f'<span class="num">{r.rho:+.2f}<br><span class="gain">[{r.low:+.2f}, {r.high:+.2f}], n {r.n}</span></span>'


def table(p: Proxy) -> str | None:
    """Step, epoch (or questions), whether the pruner decided there, then rho [95 %] and n per objective."""
    if not p.checks:
        return None
    head = ["step", p.unit, "pruner decides", *(f"rho with {o}" for o in p.objectives)]
    body = [[str(c.step), fmt(float(c.at)), "yes" if c.decides else "", *(_cell(r) for r in c.rhos)] for c in p.checks]
    return html_table(head, body)
