"""Style or knowledge? What each remedy did to knowledge of the trained facts, and to style.

Knowledge is ``knowledge_gain``: a trial's ROUGE-L on probes of its training pairs (the
facts asked in other words) minus the base model's on the same probes, with its paired
interval. Style is ``length_error`` (how far answers are from the references' length);
forgetting is the drop in general-medicine quiz accuracy (``forgetting``, where the study
scored the quiz).
For each remedy (QA tuning, paraphrase augmentation, continued pre-training, retrieval) the
complete trials with it on are compared with those with it off: the difference of the
groups' means, or, where trials differ only in that remedy (a full grid, the ``knowledge``
space), the mean of those pairs' differences: the main effect of a factorial design. The
interval carries two kinds of noise: other trials, and other probes (or quiz questions) of
the same kind, from the per-question scores each trial stores; a measure without them gets
the trials' interval alone, shown but not claimed. Paraphrase augmentation, which only adds
training questions, is compared among the trials with QA tuning. A paragraph in plain words
is generated from those numbers; each claim carries its interval.
"""

from __future__ import annotations

from html import escape
from typing import Any, Callable, NamedTuple, Sequence

import plotly.graph_objects as go

from objectives import Interval, difference_of_means, paired_t_difference, trials_and_questions_difference
from reports._block import GROUP_COLORS, OTHER_COLOR, FigureBlock, grid
from reports._cells import num, with_interval
from reports._cells import table as html_table
from reports._rows import StudyRows, TrialRow, base_row, complete, setting

KEY, TITLE = "knowledge", "Style or knowledge?"
GAIN, STYLE, UNSEEN, FORGETTING = "knowledge_gain", "length_error", "probe_unseen_rougeL", "forgetting"
NO_PROBES = ("no trial scored knowledge probes (evaluation.probes: true, or a knowledge metric as an objective; "
             "python -m study.run --space knowledge)")


def _setting(section: str, key: str) -> Callable[[TrialRow], float]:
    return lambda row: setting(row, section, key)


class Remedy(NamedTuple):
    """A remedy compared on and off: ``value`` > 0 where a trial used it, among the trials ``among`` keeps."""

    name: str
    value: Callable[[TrialRow], float]
    among: Callable[[TrialRow], bool] = lambda row: True
    among_label: str = ""


_qa_epochs = _setting("training", "epochs")
#: The remedies compared. Paraphrase augmentation adds training questions, so it can act only where
#: QA tuning runs: it is compared among those trials (elsewhere on and off are the same model).
REMEDIES: tuple[Remedy, ...] = (
    Remedy("QA tuning", _qa_epochs),
    Remedy("paraphrase augmentation", _setting("data", "augment"), lambda row: _qa_epochs(row) > 0, "with QA tuning"),
    Remedy("continued pre-training", _setting("pretraining", "epochs")),
    Remedy("retrieval", _setting("retrieval", "top_k")),
)


class Point(NamedTuple):
    """One scored trial (or the base model) with its knowledge gain, style and unseen-probe score."""

    number: int
    label: str  # which remedies it used, e.g. "QA tuning + retrieval"; "base model"
    gain: float
    gain_interval: Interval | None
    style: float | None
    unseen: float | None
    forgetting: float | None


class Effect(NamedTuple):
    """One remedy on vs off: trials in each group and the difference of their means per measure."""

    remedy: str  # with the trials it is compared among, e.g. "paraphrase augmentation (with QA tuning)"
    n_on: int
    n_off: int
    gain: Interval | None  # knowledge_gain, on minus off
    style: Interval | None  # length_error, on minus off (negative: answers closer to the references' length)
    unseen: Interval | None  # probe_unseen_rougeL, on minus off
    forgetting: Interval | None  # general-quiz accuracy lost, on minus off (positive: it forgot more)
    pairs: int = 0  # pairs of trials differing only in this remedy that the intervals are paired over; 0: groups
    trials_only: frozenset[str] = frozenset()  # measures whose interval lacks the questions' noise: no claim


class Measured(NamedTuple):
    """One measure of a remedy's effect: the interval, the pairs it is paired over (0: groups), and
    whether the interval carries the questions' noise (per-question scores stored) beside the trials'."""

    interval: Interval | None
    pairs: int
    over_questions: bool


class Knowledge(NamedTuple):
    points: tuple[Point, ...]
    effects: tuple[Effect, ...]
    best: Point | None
    reading: str
    note: str | None


def _label(row: TrialRow) -> str:
    used = [remedy.name for remedy in REMEDIES if remedy.value(row) > 0 and remedy.among(row)]
    return " + ".join(used) if used else "none (the untuned base model, again)"


def _point(row: TrialRow, label: str | None = None) -> Point:
    return Point(row.number, label or _label(row), float(row.metrics[GAIN]), row.intervals.get(GAIN),  # type: ignore[arg-type]
                 row.metrics.get(STYLE), row.metrics.get(UNSEEN), row.metrics.get(FORGETTING))


PAIRED_AT_LEAST = 3  # pairs of trials that differ only in the remedy needed for a paired comparison
GROUP_AT_LEAST = 2  # trials in each group for an unpaired one: a group of one has no spread to show
#: Each measure's per-question scores (``per_question`` of a trial): where every compared trial has
#: them, an effect's interval carries the questions' noise beside the trials'.
PER_QUESTION = {"gain": GAIN, "style": STYLE, "unseen": UNSEEN, "forgetting": FORGETTING}


def _per_question(group: Sequence[tuple[Point, TrialRow]], field: str) -> list[float] | None:
    """The group's per-question scores of ``field``, averaged over its trials; None where one lacks them."""
    rows = [row.per_question.get(PER_QUESTION[field]) or [] for _, row in group]
    if not all(rows) or len({len(r) for r in rows}) != 1:
        return None
    return [sum(float(v) for v in column) / len(column) for column in zip(*rows)]


def _difference(remedy: Remedy, among: Sequence[tuple[Point, TrialRow]], field: str) -> Measured:
    """The remedy's effect on ``field`` (on minus off), with how it was compared.

    Where trials differ only in this remedy (the cells of a grid), the effect is the mean of
    those pairs' differences: the other remedies' effects cancel, as in a factorial design's
    main effect. Otherwise it is the difference of the two groups' means, whose interval also
    carries the other remedies' spread. Where the trials stored per-question scores of the
    measure, the interval carries both the trials' and the questions' noise
    (:func:`objectives.trials_and_questions_difference`); otherwise the trials' alone, which is
    too narrow when trials differ on the same few questions, and the reading makes no claim of it.
    """
    cells: dict[tuple[float, ...], dict[bool, list[tuple[Point, TrialRow]]]] = {}
    for point, row in among:
        if getattr(point, field) is not None:
            key = tuple(other.value(row) for other in REMEDIES if other is not remedy)
            cells.setdefault(key, {}).setdefault(remedy.value(row) > 0, []).append((point, row))
    paired = [c for c in cells.values() if len(c) == 2]
    if len(paired) >= PAIRED_AT_LEAST:
        on_groups, off_groups = [c[True] for c in paired], [c[False] for c in paired]
    else:
        on_groups = [[m] for c in cells.values() for m in c.get(True, ())]
        off_groups = [[m] for c in cells.values() for m in c.get(False, ())]
        if min(len(on_groups), len(off_groups)) < GROUP_AT_LEAST:
            return Measured(None, 0, False)
    pairs = len(paired) if len(paired) >= PAIRED_AT_LEAST else 0
    # A cell with several trials on (or off) counts as their mean, per question and overall.
    on_rows = [_per_question(group, field) for group in on_groups]
    off_rows = [_per_question(group, field) for group in off_groups]
    tables = on_rows + off_rows
    if all(tables) and len({len(r) for r in tables if r}) == 1:
        return Measured(trials_and_questions_difference(on_rows, off_rows, paired=bool(pairs)), pairs, True)  # type: ignore[arg-type]
    on = [sum(getattr(p, field) for p, _ in g) / len(g) for g in on_groups]
    off = [sum(getattr(p, field) for p, _ in g) / len(g) for g in off_groups]
    interval = paired_t_difference(on, off) if pairs else difference_of_means(on, off)
    return Measured(interval, pairs, False)


def knowledge(rows: Sequence[TrialRow]) -> Knowledge:
    """Every trial's knowledge gain and style, and each remedy's effect on them (on minus off)."""
    trials = [r for r in complete(rows) if r.metrics.get(GAIN) is not None]
    if not trials:
        return Knowledge((), (), None, "", NO_PROBES)
    points = [_point(r) for r in trials]
    base = base_row(rows)
    shown = ([_point(base, "base model")] if base is not None and base.metrics.get(GAIN) is not None else []) + points
    effects = []
    for remedy in REMEDIES:
        among = [(p, r) for p, r in zip(points, trials) if remedy.among(r)]
        n_on = sum(remedy.value(r) > 0 for _, r in among)
        measured = {f: _difference(remedy, among, f) for f in PER_QUESTION}
        name = f"{remedy.name} ({remedy.among_label})" if remedy.among_label else remedy.name
        trials_only = frozenset(f for f, m in measured.items() if m.interval is not None and not m.over_questions)
        effects.append(Effect(name, n_on, len(among) - n_on, *(m.interval for m in measured.values()),
                              pairs=measured["gain"].pairs, trials_only=trials_only))
    best = max(points, key=lambda p: p.gain)
    return Knowledge(tuple(shown), tuple(effects), best, reading(effects, best), None)


def _signed(interval: Interval) -> str:
    return f"{interval.estimate:+.3f} [{interval.low:+.3f}, {interval.high:+.3f}]"


def reading(effects: Sequence[Effect], best: Point) -> str:
    """The section's conclusion in plain words, generated from the numbers; every figure with its interval."""
    said = []
    for e in effects:
        if e.gain is None:
            said.append(f"{e.remedy}: not compared ({e.n_on} trials with it, {e.n_off} without: too few to tell)")
            continue
        if "gain" in e.trials_only:
            verdict = ("was measured over trials only on knowledge of the trained facts (no per-question probe "
                       "scores stored, so no claim)")
        elif e.gain.low > 0:
            verdict = "raised knowledge of the trained facts"
        elif e.gain.high < 0:
            verdict = "lowered knowledge of the trained facts"
        else:
            verdict = "made no difference we can tell to knowledge of the trained facts"
        style = ""
        if e.style is not None and "style" not in e.trials_only and (e.style.low > 0 or e.style.high < 0):
            style = (f"; it moved answers {'away from' if e.style.low > 0 else 'towards'} the references' length "
                     f"(length error {_signed(e.style)})")
        forgot = ""
        if e.forgetting is not None and "forgetting" in e.trials_only:
            forgot = (f"; general-medicine accuracy moved by {-e.forgetting.estimate:+.3f} over trials only: the quiz "
                      "answers were not stored per question, so the quiz's own noise is unknown and no claim is made")
        elif e.forgetting is not None:
            forgot = (f"; it {'cost' if e.forgetting.low > 0 else 'spared' if e.forgetting.high < 0 else 'did not measurably change'}"
                      f" general-medicine accuracy (forgetting {_signed(e.forgetting)})")
        over = (f"{e.pairs} pairs of trials that differ only in it" if e.pairs
                else f"{e.n_on} trials with it, {e.n_off} without")
        said.append(f"{e.remedy} {verdict}: seen-fact probe ROUGE-L {_signed(e.gain)} ({over}){style}{forgot}")
    if best.gain_interval is not None:
        i = best.gain_interval
        over = ("above the base model" if i.low > 0 else "below the base model" if i.high < 0
                else "not distinguishable from the base model")
        top = (f"The best knowledge gain, trial {best.number} ({best.label}), is {best.gain:+.3f} "
               f"[{i.low:+.3f}, {i.high:+.3f}] ROUGE-L on the seen-fact probes: {over}.")
    else:
        top = f"The best knowledge gain, trial {best.number} ({best.label}), is {best.gain:+.3f} (no interval stored)."
    return ("; ".join(said) + ". " + top + " A remedy's effect has a 95 % interval that carries both the trials' "
            "spread (a t interval over pairs of trials that differ only in it, Welch's t over the two groups where "
            "there are no pairs) and the questions' (a t interval over probes or quiz questions); the best trial's "
            "is a bootstrap over probes. One trial per cell means one training seed: seed-to-seed spread is in the "
            "pairs' spread, not measured apart.")


def info(data: StudyRows) -> Knowledge:
    return knowledge(data.trials)


def figure(k: Knowledge) -> FigureBlock:
    """Knowledge gain against style (length error) and against unseen-question probes, one colour per remedy mix."""
    if not k.points:
        return FigureBlock(KEY, TITLE, None, k.note)
    fig, cells = grid([f"{GAIN} vs {STYLE} (style)", f"{GAIN} vs {UNSEEN} (generalisation)"])
    labels = sorted({p.label for p in k.points if p.label != "base model"})
    for (r, c), axis in zip(cells, ("style", "unseen")):
        for i, label in enumerate(["base model", *labels]):
            group = [p for p in k.points if p.label == label and getattr(p, axis) is not None]
            if not group:
                continue
            color = OTHER_COLOR if label == "base model" else GROUP_COLORS[i % len(GROUP_COLORS)]
            fig.add_trace(go.Scatter(
                x=[getattr(p, axis) for p in group], y=[p.gain for p in group], mode="markers", name=label,
                legendgroup=label, showlegend=(r, c) == cells[0], marker={"color": color, "size": 10},
                error_y=_error_bars(group), text=[f"trial {p.number}: {label}" for p in group],
                hovertemplate="%{text}<br>x %{x:.3g}<br>knowledge_gain %{y:+.3f}<extra></extra>",
            ), row=r, col=c)
    fig.update_layout(title=TITLE)
    return FigureBlock(KEY, TITLE, fig, None)


def _error_bars(points: Sequence[Point]) -> dict[str, Any]:
    have = [p.gain_interval for p in points]
    if not any(have):
        return {"visible": False}
    return {"type": "data", "symmetric": False,
            "array": [(i.high - p.gain) if i else 0 for p, i in zip(points, have)],
            "arrayminus": [(p.gain - i.low) if i else 0 for p, i in zip(points, have)]}


def _cell(e: Effect, field: str) -> str:
    interval = getattr(e, field)
    if interval is None:
        return "–"
    # Without per-question scores the interval is the trials' alone: too narrow to claim from.
    return with_interval(interval.estimate, interval) + (" (trials only)" if field in e.trials_only else "")


def table(k: Knowledge) -> str | None:
    """Each remedy on minus off, with intervals; then the generated reading."""
    if not k.effects:
        return None
    forgetting = any(e.forgetting is not None for e in k.effects)
    fields = ("gain", "style", "unseen", *(("forgetting",) if forgetting else ()))
    rows = [[escape(e.remedy), num(e.n_on), num(e.n_off), *(_cell(e, f) for f in fields)] for e in k.effects]
    head = ["remedy", "trials on", "trials off", f"{GAIN}: on − off", f"{STYLE}: on − off", f"{UNSEEN}: on − off",
            *((f"{FORGETTING}: on − off",) if forgetting else ())]
    return html_table(head, rows) + f"<p>{escape(k.reading)}</p>"
