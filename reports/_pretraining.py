"""Continued pre-training on / off: each objective over the trials without and with pre-training on the corpus.

A box per group and objective with every trial shown, and a table of count, mean and best
(in the objective's direction). A trial's group is its ``pretraining.epochs``: 0 is off.
"""

from __future__ import annotations

import statistics
from html import escape
from typing import NamedTuple, Sequence

import plotly.graph_objects as go

from reports._block import OTHER_COLOR, TRIAL_COLOR, FigureBlock, grid
from reports._cells import num
from reports._cells import table as html_table
from reports._rows import ObjectiveInfo, StudyRows, TrialRow, complete

KEY, TITLE = "pretraining", "Continued pre-training on / off"
PRETRAIN_OFF, PRETRAIN_ON = "off (epochs = 0)", "on (epochs > 0)"  # group labels


class Group(NamedTuple):
    """One objective over the trials of one group: count, mean and best in its direction."""

    label: str
    numbers: tuple[int, ...]
    values: tuple[float, ...]
    mean: float | None
    best: float | None


class GroupComparison(NamedTuple):
    objective: ObjectiveInfo
    groups: tuple[Group, ...]


class Pretraining(NamedTuple):
    """Objectives of trials without (``pretraining.epochs == 0``) and with continued pre-training."""

    comparisons: tuple[GroupComparison, ...]
    note: str | None


def pretrain_epochs(row: TrialRow) -> int | None:
    """``pretraining.epochs`` of the trial's config; a config without the section ran with the
    default, 0. None when the trial recorded no config at all."""
    if not row.config:
        return None
    return int((row.config.get("pretraining") or {}).get("epochs") or 0)


def pretraining_comparison(rows: Sequence[TrialRow], objectives: Sequence[ObjectiveInfo]) -> Pretraining:
    """Each objective over the trials without, then with, continued pre-training."""
    done = [r for r in complete(rows) if r.values is not None]
    if not done:
        return Pretraining((), "no COMPLETE trials yet")
    epochs = {r.number: pretrain_epochs(r) for r in done}
    split = ((PRETRAIN_OFF, [r for r in done if epochs[r.number] == 0]),
             (PRETRAIN_ON, [r for r in done if (epochs[r.number] or 0) > 0]))
    comparisons = []
    for i, objective in enumerate(objectives):
        pick = max if objective.direction == "maximize" else min
        groups = []
        for label, members in split:
            if members:
                values = tuple(r.values[i] for r in members)  # type: ignore[index]  # complete trials
                groups.append(Group(label, tuple(r.number for r in members), values,
                                    statistics.fmean(values), pick(values)))
        comparisons.append(GroupComparison(objective, tuple(groups)))
    notes = []
    present = [label for label, members in split if members]
    if len(present) == 1:
        notes.append(f"every COMPLETE trial ran with continued pre-training {present[0]}: nothing to compare")
    unknown = sum(e is None for e in epochs.values())
    if unknown:
        notes.append(f"{unknown} trials without a recorded config are left out")
    return Pretraining(tuple(comparisons), "; ".join(notes) or None)


def info(data: StudyRows) -> Pretraining:
    return pretraining_comparison(data.trials, data.objectives)


def figure(p: Pretraining) -> FigureBlock:
    """Each objective as a box per group (continued pre-training off, on), every trial shown."""
    if not p.comparisons:
        return FigureBlock(KEY, TITLE, None, p.note)
    fig, cells = grid([str(c.objective) for c in p.comparisons])
    for comparison, (r, c) in zip(p.comparisons, cells):
        for group in comparison.groups:
            color = OTHER_COLOR if group.label == PRETRAIN_OFF else TRIAL_COLOR
            fig.add_trace(go.Box(
                x=[group.label] * len(group.values), y=list(group.values), name=group.label,
                boxpoints="all", jitter=0.4, pointpos=0, marker={"color": color}, showlegend=False,
                text=[f"trial {n}" for n in group.numbers],
                hovertemplate=f"%{{text}}<br>{comparison.objective.metric}: %{{y:.4g}}<extra></extra>",
            ), row=r, col=c)
    fig.update_layout(title=TITLE)
    return FigureBlock(KEY, TITLE, fig, p.note)


def table(p: Pretraining) -> str:
    """Count, mean and best of each objective per group (continued pre-training off / on)."""
    rows = [[escape(str(c.objective)), escape(g.label), str(len(g.values)), num(g.mean), num(g.best)]
            for c in p.comparisons for g in c.groups]
    return html_table(["objective", "continued pre-training", "trials", "mean", "best"], rows) if rows else ""
