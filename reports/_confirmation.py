"""Confirmation with fresh seeds: do the best configurations still beat the base model when trained again?

Reads the ``confirmed`` study attribute that ``python -m study.confirm`` writes (trial number ->
metric -> seed mean, seed SD, seeds, 95 % interval over questions of the per-question means
over seeds, and the paired gain over the base model) and ``noise_floor`` (metric -> median
seed-to-seed SD of one configuration). The configurations are ranked by their seed mean of
the first objective; one sentence per objective, computed from the gains, says whether any
beats the base model, with its interval.
"""

from __future__ import annotations

from html import escape
from typing import Any, Mapping, NamedTuple

from reports import _gains
from reports._block import FigureBlock
from reports._cells import fmt, num
from reports._cells import table as html_table
from reports._rows import ObjectiveInfo, StudyRows, as_number
from study.core import keys

KEY, TITLE = "confirmation", "Confirmation with fresh seeds"
NO_DATA = ("no confirmation yet: python -m study.confirm re-trains the best trials with fresh seeds "
           "and provides the seed means, their spread and the gain over the base model")


class Confirmed(NamedTuple):
    """One metric of one confirmed configuration, over its seeds."""

    metric: str
    seeds: int | None
    mean: float | None
    sd: float | None  # seed-to-seed standard deviation; None for a single seed
    low: float | None  # 95 % interval over questions of the per-question means over seeds
    high: float | None
    questions: int | None
    gain: _gains.Gain | None


class Configuration(NamedTuple):
    number: int
    metrics: dict[str, Confirmed]


class Confirmation(NamedTuple):
    objectives: tuple[ObjectiveInfo, ...]
    configurations: tuple[Configuration, ...]  # best seed mean of the first objective first
    noise_floor: dict[str, float]
    verdicts: tuple[str, ...]  # one sentence per objective with gains
    note: str | None


def _entry(metric: str, e: Mapping[str, Any]) -> Confirmed:
    seeds, questions = e.get("seeds"), e.get("questions")
    return Confirmed(metric, seeds if isinstance(seeds, int) else None, as_number(e.get("mean")),
                     as_number(e.get("sd")), as_number(e.get("low")), as_number(e.get("high")),
                     questions if isinstance(questions, int) else None, _gains.gain_of(e.get("gain")))


def confirmation(confirmed: Any, noise: Any, objectives: tuple[ObjectiveInfo, ...]) -> Confirmation:
    """The ``confirmed`` and ``noise_floor`` study attributes as ranked configurations and verdicts."""
    if not isinstance(confirmed, Mapping) or not confirmed:
        return Confirmation(objectives, (), {}, (), NO_DATA)
    configs = [Configuration(int(n), {m: _entry(m, e) for m, e in table.items() if isinstance(e, Mapping)})
               for n, table in confirmed.items() if str(n).isdigit() and isinstance(table, Mapping)]
    first = objectives[0] if objectives else None
    sign = -1.0 if first is None or first.direction == "maximize" else 1.0

    def rank(c: Configuration) -> tuple[bool, float, int]:
        mean = c.metrics[first.metric].mean if first and first.metric in c.metrics else None
        return (mean is None, sign * mean if mean is not None else 0.0, c.number)

    configs.sort(key=rank)
    verdicts = []
    for o in objectives:
        gains = {c.number: g for c in configs if (e := c.metrics.get(o.metric)) and (g := e.gain)}
        if gains:
            verdicts.append(_gains.verdict(o, gains, "confirmed configuration"))
    floor = {str(m): x for m, v in (noise if isinstance(noise, Mapping) else {}).items()
             if (x := as_number(v)) is not None}
    note = None if verdicts else "the base model was not confirmed: no gains (run python -m study.confirm again)"
    return Confirmation(objectives, tuple(configs), floor, tuple(verdicts), note)


def info(data: StudyRows) -> Confirmation:
    return confirmation(data.attrs.get(keys.CONFIRMED), data.attrs.get(keys.NOISE_FLOOR), data.objectives)


def figure(c: Confirmation) -> FigureBlock:
    """Each confirmed configuration's gain over the base model (mean over seeds) with its 95 % interval."""
    rows = [(f"trial {k.number} ({_seeds(k)} seeds)", {m: e.gain for m, e in k.metrics.items()})
            for k in c.configurations]
    fig = _gains.forest(rows, c.objectives, TITLE) if rows else None
    return FigureBlock(KEY, TITLE, fig, c.note)


def _seeds(k: Configuration) -> str:
    seeds = {e.seeds for e in k.metrics.values() if e.seeds is not None}
    return fmt(max(seeds)) if seeds else "?"


def _interval(e: Confirmed) -> str:
    if e.low is None or e.high is None:
        return fmt(None)
    return f"[{e.low:.3g}, {e.high:.3g}]" + (f" ({e.questions} questions)" if e.questions else "")


def table(c: Confirmation) -> str | None:
    """Ranked configurations, one line per objective: seeds, mean, SD, interval, gain [95 %] and p;
    then the noise floor and the verdicts."""
    if not c.configurations:
        return None
    metrics = [o.metric for o in c.objectives]
    body = [[str(k.number), escape(m), fmt(e.seeds), num(e.mean), num(e.sd), _interval(e), _gains.cell(e.gain)]
            for k in c.configurations for m in metrics if (e := k.metrics.get(m))]
    parts = [html_table(["trial", "metric", "seeds", "seed mean", "seed SD", "95 % interval",
                         "gain vs base [95 %], p"], body)]
    if c.noise_floor:
        floor = ", ".join(f"{escape(m)} {v:.3g}" for m, v in c.noise_floor.items())
        parts.append(f"<p>Noise floor (median seed-to-seed SD of one configuration): {floor}. "
                     "Configurations closer than this differ by no more than retraining with another seed would.</p>")
    parts += [f"<p><b>With fresh seeds:</b> {escape(s)}.</p>" for s in c.verdicts]
    return "\n".join(parts)
