"""The Pareto front: objective values of the complete trials, the Pareto-optimal ones in red.

Each point carries its 95 % interval as error bars on every axis whose objective has one
(per-question metrics; a cost such as ``train_seconds`` has none). The untuned base model is
its own grey marker, outside the front: it has no parameters and is not a result of the
search. Trials whose paired 95 % interval of the difference to the best trial on the first
objective includes 0 (:func:`objectives.indistinguishable`) are ringed: on these questions
they are not shown to be worse than the best. In a study that searches retrieval, the marker's
shape says how a trial answers: fine-tuning only, retrieval only, or both (:func:`approach`).

Two objectives give a scatter plot; three or more a grid of every pair of objectives (a
scatter matrix where no trial has intervals, as in studies stored before intervals), because
a trial on the front may look dominated in any single pair of objectives.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Sequence

import optuna
import plotly.graph_objects as go
from optuna.trial import FrozenTrial, TrialState

from objectives import direction_of, indistinguishable, pareto_front
from reports._block import FRONT_COLOR, HEIGHT, OTHER_COLOR, FigureBlock, grid, no_complete, trial_hover
from reports._rows import ObjectiveInfo, StudyRows, TrialRow, approach, as_number, base_row, is_base_trial, scored

KEY, TITLE = "pareto", "Pareto front"
BASE_LABEL = "base model (untuned)"
CLOSE_LABEL = "indistinguishable from the best (95 %)"
SYMBOLS = {"fine-tuning only": "circle", "retrieval only": "square", "fine-tuning + retrieval": "triangle-up",
           "neither": "x"}


def pareto_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The Pareto front of the fine-tuned trials (the base model left out), best first by the first objective."""
    best_first = -1.0 if direction_of(study.directions[0]) == "max" else 1.0
    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.values and not is_base_trial(t)]
    front = pareto_front(done, lambda t: t.values, study.directions)
    return sorted(front, key=lambda t: (best_first * t.values[0], t.number))


def close_to_best(rows: Sequence[TrialRow], pareto: Sequence[TrialRow],
                  objectives: Sequence[ObjectiveInfo]) -> frozenset[int]:
    """Trials whose paired 95 % interval of (best − trial) on the first objective's per-question
    scores includes 0; the best is ``pareto[0]``. Empty without per-question scores."""
    if not pareto or not objectives:
        return frozenset()
    metric = objectives[0].metric
    best = _finite_scores(pareto[0], metric)
    if best is None:
        return frozenset()
    others = {r.number: s for r in scored(rows) if r.number != pareto[0].number
              and (s := _finite_scores(r, metric)) is not None and len(s) == len(best)}
    return frozenset(indistinguishable(best, others)) if others else frozenset()


def _finite_scores(row: TrialRow, metric: str) -> list[float] | None:
    scores = [as_number(v) for v in row.per_question.get(metric) or ()]
    return scores if scores and None not in scores else None  # type: ignore[return-value]


def _shown(row: TrialRow, i: int, metric: str) -> str:
    """An objective value with its interval, for the hover text."""
    iv = row.intervals.get(metric)
    value = f"{row.values[i]:.4g}"  # type: ignore[index]  # rows with values only
    return f"{value} [{iv.low:.4g}, {iv.high:.4g}]" if iv else value


def _hover(row: TrialRow, names: Sequence[str]) -> str:
    text = trial_hover(row.number, {m: _shown(row, i, m) for i, m in enumerate(names)}, row.params)
    return f"{BASE_LABEL}<br>{text}" if row.is_base else text


def _errors(rows: Sequence[TrialRow], i: int, metric: str) -> dict[str, Any] | None:
    """Plotly error bars of objective ``i``: the 95 % interval around each value; None if no row has one."""
    ivs = [r.intervals.get(metric) for r in rows]
    if not any(ivs):
        return None
    values = [r.values[i] for r in rows]  # type: ignore[index]
    return {"type": "data", "visible": True, "thickness": 1,
            "array": [max(0.0, iv.high - v) if iv else None for iv, v in zip(ivs, values)],
            "arrayminus": [max(0.0, v - iv.low) if iv else None for iv, v in zip(ivs, values)]}


def _groups(data: StudyRows) -> list[tuple[str, list[TrialRow], dict[str, Any]]]:
    """(legend label, rows, marker) of each trace: dominated, front (each split by approach where
    the study searched retrieval), base model, then the ring."""
    done = scored(data.trials)
    front = {r.number for r in data.pareto}
    base = base_row(data.trials)
    kinds = sorted({approach(r) for r in done}, key=list(SYMBOLS).index)
    split = any("retrieval" in kind for kind in kinds) and len(kinds) > 1
    points = []
    for label, on_front, color in (("dominated", False, OTHER_COLOR), ("Pareto front", True, FRONT_COLOR)):
        rows = [r for r in done if (r.number in front) == on_front]
        if not split:
            points.append((label, rows, {"color": color, "size": 9}))
            continue
        points += [(f"{label}: {kind}", group, {"color": color, "size": 9, "symbol": SYMBOLS[kind]})
                   for kind in kinds if (group := [r for r in rows if approach(r) == kind])]
    return [(label, rows, marker) for label, rows, marker in (
        *points,
        (BASE_LABEL, [base] if base else [], {"color": "#444444", "size": 13, "symbol": "diamond"}),
        (CLOSE_LABEL, [r for r in done if r.number in data.close_to_best],
         {"color": "rgba(0,0,0,0)", "size": 17, "symbol": "circle-open", "line": {"color": "#000000", "width": 2}}),
    ) if rows or label in ("dominated", "Pareto front")]


def _scatter(label: str, rows: Sequence[TrialRow], marker: dict[str, Any], names: Sequence[str],
             i: int, j: int, legend: bool) -> go.Scatter:
    ring = label == CLOSE_LABEL  # an overlay: the point below it carries the error bars
    return go.Scatter(
        x=[r.values[i] for r in rows], y=[r.values[j] for r in rows],  # type: ignore[index]
        mode="markers", name=label, marker=marker, legendgroup=label,
        showlegend=legend, error_x=None if ring else _errors(rows, i, names[i]),
        error_y=None if ring else _errors(rows, j, names[j]),
        text=[_hover(r, names) for r in rows], hovertemplate="%{text}<extra></extra>",
    )


def figure(data: StudyRows) -> FigureBlock:
    """Objective values with 95 % error bars, the front (``data.pareto``) in red, the base model grey."""
    if not scored(data.trials):
        return no_complete(KEY, TITLE)
    if len(data.objectives) < 2:
        return FigureBlock(KEY, TITLE, None, "single-objective study: see the optimisation history")
    names = [o.metric for o in data.objectives]
    groups = _groups(data)
    if len(names) == 2:
        fig = go.Figure([_scatter(*g, names, 0, 1, True) for g in groups])
        fig.update_layout(xaxis_title=str(data.objectives[0]), yaxis_title=str(data.objectives[1]), height=HEIGHT)
    elif any(r.intervals.get(m) for _, rows, _ in groups for r in rows for m in names):
        pairs = list(combinations(range(len(names)), 2))
        fig, cells = grid([f"{names[j]} vs {names[i]}" for i, j in pairs])
        for k, ((i, j), (row, col)) in enumerate(zip(pairs, cells)):
            for g in groups:
                fig.add_trace(_scatter(*g, names, i, j, k == 0), row=row, col=col)
            fig.update_xaxes(title_text=str(data.objectives[i]), row=row, col=col)
            fig.update_yaxes(title_text=str(data.objectives[j]), row=row, col=col)
    else:
        fig = go.Figure([go.Splom(
            dimensions=[{"label": str(o), "values": [r.values[i] for r in rows]}  # type: ignore[index]
                        for i, o in enumerate(data.objectives)],
            name=label, marker=marker, diagonal_visible=False,
            text=[_hover(r, names) for r in rows], hovertemplate="%{text}<extra></extra>",
        ) for label, rows, marker in groups])
        fig.update_layout(height=220 * len(names))
    fig.update_layout(title=TITLE)
    note = None
    if data.close_to_best:
        note = (f"ringed: trials whose paired 95 % interval of the difference to trial {data.pareto[0].number} "
                f"on {names[0]} includes 0")
    return FigureBlock(KEY, TITLE, fig, note)
