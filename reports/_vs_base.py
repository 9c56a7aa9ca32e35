"""Compared with the base model: the best trials' gain over the untuned base model on the validation split.

For each Pareto-optimal trial and objective: the trial's score with its 95 % interval, its
paired gain over the base model on the same questions with the 95 % interval of that gain and
the Wilcoxon p-value; one sentence per objective says whether any of them beats the base model
(the whole interval on the better side of 0). These are single training runs, picked as the
best of many noisy ones, so they flatter themselves (winner's curse): the page says so wherever
no confirmation with fresh seeds (:mod:`reports._confirmation`) covers them.
"""

from __future__ import annotations

from html import escape
from typing import NamedTuple

from reports import _gains
from reports._block import FigureBlock
from reports._cells import table as html_table
from reports._cells import with_interval
from reports._rows import ObjectiveInfo, StudyRows, TrialRow, base_row
from study.core import keys

KEY, TITLE = "vs-base", "Compared with the base model (validation split, single runs)"
CONFIRM_HINT = "python -m study.confirm re-trains them with fresh seeds"


class VsBaseRow(NamedTuple):
    """One model of the table: the base model (``number`` None) or a Pareto-optimal trial."""

    label: str
    number: int | None
    row: TrialRow
    gains: dict[str, _gains.Gain | None]  # objective metric -> gain over the base model; empty for the base


class VsBase(NamedTuple):
    objectives: tuple[ObjectiveInfo, ...]
    rows: tuple[VsBaseRow, ...]  # base model first, then the Pareto trials best first
    verdicts: tuple[str, ...]  # one sentence per objective with gains
    caution: str | None  # the winner's curse, where no confirmation covers the trials
    note: str | None


def vs_base(data: StudyRows) -> VsBase:
    """The base model and the Pareto trials, each trial's gain per objective, and the verdicts."""
    objectives = data.objectives
    base = base_row(data.trials)
    if base is None:
        note = ("the base model was not scored in this study (stored before the base model became a point "
                "of every study): no gains can be shown")
        return VsBase(objectives, (), (), None, note)
    rows = [VsBaseRow("base model (untuned)", None, base, {})]
    rows += [VsBaseRow(f"trial {r.number}", r.number, r,
                       {o.metric: _gains.gain_of(r.gain.get(o.metric)) for o in objectives}) for r in data.pareto]
    with_gain = [o for o in objectives if any(v.gains.get(o.metric) for v in rows)]
    if not with_gain:
        return VsBase(objectives, tuple(rows), (), None,
                      "no trial on the Pareto front has per-question scores to compare with the base model")
    verdicts = tuple(_gains.verdict(o, {v.number: g for v in rows[1:] if (g := v.gains.get(o.metric))
                                        and v.number is not None}, "trial on the Pareto front") for o in with_gain)
    confirmed = {str(n) for n in (data.attrs.get(keys.CONFIRMED) or {})}
    unconfirmed = [v.number for v in rows[1:] if str(v.number) not in confirmed]
    caution = None
    if unconfirmed:
        caution = (f"single training runs ({_trials(unconfirmed)} not confirmed): the best of many noisy runs looks "
                   f"better than it is (winner's curse), so these gains likely overstate a fresh run; {CONFIRM_HINT}")
        if len(unconfirmed) < len(rows) - 1:
            caution += "; the others: see the confirmation with fresh seeds below"
    return VsBase(objectives, tuple(rows), verdicts, caution, None)


def _trials(numbers: list[int | None]) -> str:
    return ("trials " if len(numbers) > 1 else "trial ") + ", ".join(str(n) for n in numbers)


def info(data: StudyRows) -> VsBase:
    return vs_base(data)


def figure(v: VsBase) -> FigureBlock:
    """Each Pareto trial's gain over the base model per objective, with its 95 % interval."""
    fig = _gains.forest([(r.label, r.gains) for r in v.rows[1:]], v.objectives, TITLE) if v.rows else None
    return FigureBlock(KEY, TITLE, fig, v.note or v.caution)


def _score(row: TrialRow, i: int, metric: str) -> str:
    """A validation score with its 95 % interval below it."""
    return with_interval(row.values[i] if row.values else None, row.intervals.get(metric))


def table(v: VsBase) -> str | None:
    """Score [95 %] and gain vs base [95 %], p per objective; then one verdict per objective."""
    if not v.rows:
        return None
    head = ["model"]
    for o in v.objectives:
        head += [f"{o} [95 %]", f"gain in {o.metric} vs base [95 %], p"]
    body = [[escape(r.label), *(c for i, o in enumerate(v.objectives)
                                for c in (_score(r.row, i, o.metric),
                                          "" if r.number is None else _gains.cell(r.gains.get(o.metric))))]
            for r in v.rows]
    words = "".join(f"<p><b>Single runs:</b> {escape(s)}.</p>" for s in v.verdicts)
    return html_table(head, body) + words + f"<p>{escape(basis(v))}</p>"


def basis(v: VsBase) -> str:
    """Against which base the gains are measured, and on which questions."""
    fair = [r.number for r in v.rows[1:] if r.row.gain_basis == keys.SAME_DECODING]
    against = ("the base model answering with each trial's own decoding and prompt" if len(fair) == len(v.rows) - 1
               else "the base trial, which answered with the default decoding (a study recorded before gains "
                    "were measured against the base with the same decoding), so part of a gain may be decoding"
               if not fair else "the base with the same decoding for trials " + ", ".join(map(str, fair))
               + " and the base trial's default decoding for the others")
    return (f"Gains are against {against}, on the validation questions that chose these trials: optimistic. "
            "The unbiased comparison is study.export on the untouched test split.")
