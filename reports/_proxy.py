"""Does the pruning metric predict the objectives? Spearman's rho, per check, between the pruning
metric's value at that check and each final objective, over the COMPLETE fine-tuned trials.

The pruner stops trials on the pruning metric (``eval_loss`` after a fraction of an epoch, say),
trusting that it ranks trials as the objectives will at the end. Each rho comes with a 95 %
interval (Fisher z with the standard error 1.06 / sqrt(n − 3) of Fieller, Hartley and
Pearson). The expected sign is + where the pruning metric and the objective improve in the
same direction and − otherwise. A warning names the objectives for which, at a check where
the pruner decided (where it stopped a trial; every check while none was stopped), rho is
weak (|rho| < :data:`WEAK`) or has the wrong sign. For a per-question pruner a step is a
question, and the value is the running mean of the per-question scores so far.

Where the checks answered only the first N validation questions (``study.check_questions``)
and an objective is a mean over questions, its final score over those N questions is in part
the very number the check saw, which inflates rho. So beside it stands rho with the objective
over the other questions alone (questions N+1 to the last), which the checks never answered:
that one says whether the check predicts answers to new questions, and the warnings read it.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import plotly.graph_objects as go

from objectives import METRICS, spearman
from reports._block import FRONT_COLOR, GROUP_COLORS, HEIGHT, FigureBlock
from reports._cells import fmt
from reports._cells import table as html_table
from reports._rows import ObjectiveInfo, Series, StudyRows, TrialRow, scored
from study import pruners
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
    at: float  # epoch (step / checks per epoch), or questions scored for a per-question pruner
    decides: bool  # the pruner decided here
    rhos: tuple[Rho, ...]  # one per objective
    unseen: tuple[Rho | None, ...] = ()  # per objective: rho with its score on the questions the checks skipped


class Proxy(NamedTuple):
    metric: str
    objectives: tuple[ObjectiveInfo, ...]
    expected: tuple[int | None, ...]  # +1 / -1 per objective; None where the metric's direction is unknown
    unit: str  # "epoch" or "questions"
    checks: tuple[Check, ...]
    warnings: tuple[str, ...]
    note: str | None
    unseen_from: int | None = None  # the first question (1-based) the checks did not answer; None: they answered all
    questions: int = 0  # validation questions of the final scores


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
    per_question = pruners.stored_unit(data.attrs) == pruners.QUESTION
    unit = "questions" if per_question else "epoch"
    series = {s.number: s for s in data.series}
    done = [r for r in scored(data.trials) if r.number in series]
    if len(done) < MIN_TRIALS:
        note = (f"needs at least {MIN_TRIALS} COMPLETE trials with intermediate values to rank; "
                f"the study has {len(done)}")
        return Proxy(metric, objectives, expected, unit, (), (), note)
    values = {r.number: _values(series[r.number], per_question) for r in done}
    pruned_at = {s.steps[-1] for s in data.series if s.state == "PRUNED" and s.steps}
    per_epoch = 1 if per_question else int(data.attrs.get(keys.CHECKS_PER_EPOCH) or 1)
    skipped, unseen_scores = _unseen_scores(done, objectives)
    checks = []
    for step in sorted({st for v in values.values() for st in v}):
        at_step = [r for r in done if step in values[r.number]]
        x = [values[r.number][step] for r in at_step]
        rhos = tuple(rho_interval(x, [r.values[i] for r in at_step])  # type: ignore[index]
                     for i in range(len(objectives)))
        unseen = tuple(None if scores is None else rho_interval(x, [scores[r.number] for r in at_step])
                       for scores in unseen_scores)
        checks.append(Check(step, step + 1 if per_question else step / per_epoch, not pruned_at or step in pruned_at, rhos,
                            unseen))
    note = None if pruned_at else "no trial was pruned yet: every check is treated as one where the pruner decides"
    return Proxy(metric, objectives, expected, unit, tuple(checks), _warnings(metric, objectives, expected, unit, checks),
                 note, None if skipped is None else skipped[0] + 1, 0 if skipped is None else skipped[1])


def _unseen_scores(done: Sequence[TrialRow], objectives: Sequence[ObjectiveInfo]
                   ) -> tuple[tuple[int, int] | None, tuple[dict[int, float] | None, ...]]:
    """Each objective's final score over the questions the checks did not answer, per trial.

    Returns ``(N, n)``, the checks' first N questions of n, or None where the trials' checks
    answered every question (or different numbers of them), and per objective the scores of
    questions N+1..n by trial number (None: not a mean over questions, or not stored).
    """
    counts = {r.check_questions for r in done}
    if len(counts) != 1 or None in counts:
        return None, tuple(None for _ in objectives)
    (n_checked,) = counts
    out: list[dict[int, float] | None] = []
    lengths = set()
    for o in objectives:
        rows = {r.number: r.per_question.get(o.metric) or [] for r in done}
        if not all(len(v) > n_checked and all(isinstance(x, (int, float)) for x in v) for v in rows.values()):
            out.append(None)
            continue
        lengths |= {len(v) for v in rows.values()}
        out.append({n: sum(v[n_checked:]) / (len(v) - n_checked) for n, v in rows.items()})
    if len(lengths) != 1:
        return None, tuple(None for _ in objectives)
    return (n_checked, lengths.pop()), tuple(out)


def _warnings(metric: str, objectives: Sequence[ObjectiveInfo], expected: Sequence[int | None], unit: str,
              checks: Sequence[Check]) -> tuple[str, ...]:
    out = []
    for i, o in enumerate(objectives):
        bad = []
        for c in (c for c in checks if c.decides):
            r = c.unseen[i] if c.unseen and c.unseen[i] is not None else c.rhos[i]
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
    """Rho per check for each objective with its 95 % interval; ±0.3 dotted; the pruner's checks ringed; dashed,
    rho with the objective on the questions the checks never answered."""
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
        unseen = [(c, c.unseen[i]) for c in p.checks if c.unseen and c.unseen[i] is not None]
        unseen = [(c, r) for c, r in unseen if r.rho is not None]  # type: ignore[union-attr]
        if unseen:  # the same objective on the questions the checks never answered: dashed
            label = f"{o}, questions {p.unseen_from}-{p.questions}"
            fig.add_trace(go.Scatter(
                x=[c.at for c, _ in unseen], y=[r.rho for _, r in unseen], mode="lines+markers", name=label,
                line={"color": color, "dash": "dash"}, marker={"size": 6, "symbol": "diamond"},
                text=[f"{label}<br>{p.unit} {c.at:g}: rho {r.rho:+.2f} [{r.low:+.2f}, {r.high:+.2f}], n {r.n}"  # type: ignore[union-attr]
                      for c, r in unseen],
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
    """Step, epoch (or questions), whether the pruner decided there, then rho [95 %] and n per objective,
    and beside it, where the checks skipped questions, rho with the objective on those questions alone."""
    if not p.checks:
        return None
    shown = [i for i in range(len(p.objectives)) if any(c.unseen and c.unseen[i] is not None for c in p.checks)]
    head = ["step", p.unit, "pruner decides"]
    for i, o in enumerate(p.objectives):
        head.append(f"rho with {o}")
        if i in shown:
            head.append(f"rho with {o}, questions {p.unseen_from}-{p.questions} (not checked)")
    body = []
    for c in p.checks:
        cells = [str(c.step), fmt(float(c.at)), "yes" if c.decides else ""]
        for i, r in enumerate(c.rhos):
            cells.append(_cell(r))
            if i in shown:
                cells.append(_cell(c.unseen[i]))  # type: ignore[arg-type]
        body.append(cells)
    return html_table(head, body)
