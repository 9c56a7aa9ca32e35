"""Style or knowledge? What each remedy did to knowledge of the trained facts, and to style.

Knowledge is ``knowledge_gain``: a trial's ROUGE-L on probes of its training pairs (the
facts asked in other words) minus the base model's on the same probes, with its paired
interval. Style is ``length_error`` (how far answers are from the references' length);
forgetting is the drop in general-medicine quiz accuracy (``forgetting``, where the study
scored the quiz).
For each remedy (QA tuning, paraphrase augmentation, continued pre-training, retrieval) the
complete trials with it on are compared with those with it off: the difference of the
groups' mean gains with a bootstrap interval over trials, or, where trials differ only in
that remedy (a full grid, the ``knowledge`` space), the mean of those pairs' differences:
the main effect of a factorial design. Paraphrase augmentation, which only adds training
questions, is compared among the trials with QA tuning. A paragraph in plain
words is generated from those numbers; each claim carries its interval.
"""

from __future__ import annotations

from html import escape
from typing import Any, Callable, NamedTuple, Sequence

import plotly.graph_objects as go

from objectives import Interval, difference_of_means, paired_t_difference
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


def _difference(remedy: Remedy, among: Sequence[tuple[Point, TrialRow]], field: str) -> tuple[Interval | None, int]:
    """The remedy's effect on ``field`` (on minus off), and the number of pairs it is paired over (0: unpaired).

    Where trials differ only in this remedy (the cells of a grid), the effect is the mean of
    those pairs' differences with a t interval (a few pairs: a bootstrap would be too narrow):
    the other remedies' effects cancel, as in a factorial design's main effect. Otherwise it is the difference of the two groups'
    means, whose interval also carries the other remedies' spread.
    """
    cells: dict[tuple[float, ...], dict[bool, list[float]]] = {}
    for point, row in among:
        value = getattr(point, field)
        if value is not None:
            key = tuple(other.value(row) for other in REMEDIES if other is not remedy)
            cells.setdefault(key, {}).setdefault(remedy.value(row) > 0, []).append(value)
    pairs = [(sum(c[True]) / len(c[True]), sum(c[False]) / len(c[False])) for c in cells.values() if len(c) == 2]
    if len(pairs) >= PAIRED_AT_LEAST:
        return paired_t_difference([a for a, _ in pairs], [b for _, b in pairs]), len(pairs)
    on = [v for c in cells.values() for v in c.get(True, ())]
    off = [v for c in cells.values() for v in c.get(False, ())]
    return (difference_of_means(on, off) if min(len(on), len(off)) >= GROUP_AT_LEAST else None), 0


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
        (gain, pairs), *others = [_difference(remedy, among, f) for f in ("gain", "style", "unseen", "forgetting")]
        name = f"{remedy.name} ({remedy.among_label})" if remedy.among_label else remedy.name
        effects.append(Effect(name, n_on, len(among) - n_on, gain, *(iv for iv, _ in others), pairs=pairs))
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
        if e.gain.low > 0:
            verdict = "raised knowledge of the trained facts"
        elif e.gain.high < 0:
            verdict = "lowered knowledge of the trained facts"
        else:
            verdict = "made no difference we can tell to knowledge of the trained facts"
        style = ""
        if e.style is not None and (e.style.low > 0 or e.style.high < 0):
            style = (f"; it moved answers {'away from' if e.style.low > 0 else 'towards'} the references' length "
                     f"(length error {_signed(e.style)})")
        forgot = ""
        if e.forgetting is not None:
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
    return ("; ".join(said) + ". " + top + " A remedy's effect has a 95 % t interval over pairs of trials "
            "(a bootstrap over trials where there are no pairs), the best trial's a bootstrap over probes; one trial per cell means one "
            "training seed: seed-to-seed spread is in the pairs' spread, not measured apart.")


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


def table(k: Knowledge) -> str | None:
    """Each remedy on minus off, with intervals; then the generated reading."""
    if not k.effects:
        return None
    forgetting = any(e.forgetting is not None for e in k.effects)
    rows = [[escape(e.remedy), num(e.n_on), num(e.n_off),
             *(with_interval(iv.estimate, iv) if iv else "–"
               for iv in (e.gain, e.style, e.unseen, *((e.forgetting,) if forgetting else ())))] for e in k.effects]
    head = ["remedy", "trials on", "trials off", f"{GAIN}: on − off", f"{STYLE}: on − off", f"{UNSEEN}: on − off",
            *((f"{FORGETTING}: on − off",) if forgetting else ())]
    return html_table(head, rows) + f"<p>{escape(k.reading)}</p>"
