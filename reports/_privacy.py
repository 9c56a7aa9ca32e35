"""Memorisation: which settings make an adapter give away its training data, and at what gain.

Every COMPLETE trial records ``membership_auc`` (0.5: its answer loss does not tell training
pairs from held-out ones) and, in studies with ``privacy.canaries``, ``exposure`` (bits: how
far made-up identity numbers in the training pairs were memorised), each with a 95 %
interval, beside the base model's. The figure plots each against the domain metric (the
trade-off: do the configurations with the best answers memorise most?); the table gives the
Spearman correlation of epochs, LoRA rank and learning rate with each, with a bootstrap
interval over trials, then the trials ranked by memorisation.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np
import plotly.graph_objects as go

from objectives import Interval, spearman
from reports._block import FRONT_COLOR, TRIAL_COLOR, FigureBlock, grid, trial_hover
from reports._cells import fmt, num, with_interval
from reports._cells import table as html_table
from reports._rows import DOMAIN_METRIC, StudyRows, TrialRow, as_number, base_row, complete

KEY, TITLE = "privacy", "Memorisation: membership inference and canary exposure"
METRICS = ("exposure", "membership_auc")
SETTINGS = (("training", "epochs"), ("lora", "rank"), ("training", "learning_rate"))
COLUMNS = tuple(f"{section}.{key}" for section, key in SETTINGS)
RESAMPLES = 1000


class Memorised(NamedTuple):
    """One trial's memorisation, its settings and its domain score."""

    number: int
    settings: dict[str, Any]  # "training.epochs" -> 3, ...
    values: dict[str, float]  # metric -> value
    intervals: dict[str, Interval | None]
    domain: float | None


class Effect(NamedTuple):
    """Spearman correlation of one setting with one memorisation metric over trials, with a bootstrap interval."""

    setting: str
    metric: str
    rho: float
    low: float
    high: float
    trials: int


class Privacy(NamedTuple):
    domain_metric: str
    metrics: tuple[str, ...]  # those some trial recorded
    trials: tuple[Memorised, ...]
    base: dict[str, Interval | None]
    base_values: dict[str, float]
    effects: tuple[Effect, ...]
    note: str | None


def privacy(rows: Sequence[TrialRow], domain_metric: str = DOMAIN_METRIC, seed: int = 0) -> Privacy:
    """The memorisation of every COMPLETE trial, the base model's, and how each setting moves it."""
    trials = tuple(_memorised(r, domain_metric) for r in complete(rows))
    trials = tuple(t for t in trials if t.values)
    metrics = tuple(m for m in METRICS if any(m in t.values for t in trials))
    base = base_row(rows)
    base_values = {m: v for m in metrics if base is not None and (v := as_number(base.metrics.get(m))) is not None}
    base_intervals = {m: base.intervals.get(m) for m in metrics} if base is not None else {}
    if not trials:
        note = "no COMPLETE trial recorded membership_auc or exposure (privacy.membership_pairs: 0, or an older study)"
        return Privacy(domain_metric, (), (), base_intervals, base_values, (), note)
    effects = tuple(e for metric in metrics for setting in _settings_that_vary(trials)
                    if (e := _effect(trials, setting, metric, seed)) is not None)
    return Privacy(domain_metric, metrics, trials, base_intervals, base_values, effects, None)


def _memorised(row: TrialRow, domain_metric: str) -> Memorised:
    values = {m: v for m in METRICS if (v := as_number(row.metrics.get(m))) is not None}
    settings = {f"{section}.{key}": (row.config.get(section) or {}).get(key) for section, key in SETTINGS}
    return Memorised(row.number, settings, values, {m: row.intervals.get(m) for m in values},
                     as_number(row.metrics.get(domain_metric)))


def _settings_that_vary(trials: Sequence[Memorised]) -> list[str]:
    return [n for n in COLUMNS if len({t.settings.get(n) for t in trials if t.settings.get(n) is not None}) > 1]


def _effect(trials: Sequence[Memorised], setting: str, metric: str, seed: int) -> Effect | None:
    pairs = [(float(t.settings[setting]), t.values[metric]) for t in trials
             if metric in t.values and isinstance(t.settings.get(setting), (int, float))]
    if len(pairs) < 3:
        return None
    x, y = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    rho = spearman(x, y)
    if not np.isfinite(rho):
        return None
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(RESAMPLES):  # a bootstrap over trials; resamples where either side is constant have no rho
        idx = rng.integers(0, len(pairs), len(pairs))
        if np.ptp(x[idx]) > 0 and np.ptp(y[idx]) > 0:
            reps.append(spearman(x[idx], y[idx]))
    low, high = (np.quantile(reps, [0.025, 0.975]) if reps else (np.nan, np.nan))
    return Effect(setting, metric, float(rho), float(low), float(high), len(pairs))


def info(data: StudyRows) -> Privacy:
    return privacy(data.trials)


def figure(p: Privacy) -> FigureBlock:
    """Each memorisation metric (with its interval) against the domain metric; dashed: the base model."""
    if not p.trials:
        return FigureBlock(KEY, TITLE, None, p.note)
    fig, cells = grid([f"{m} against {p.domain_metric}" for m in p.metrics])
    for metric, (r, c) in zip(p.metrics, cells):
        shown = [t for t in p.trials if metric in t.values and t.domain is not None]
        errors = [t.intervals.get(metric) for t in shown]
        fig.add_trace(go.Scatter(
            x=[t.domain for t in shown], y=[t.values[metric] for t in shown], mode="markers", name=metric,
            marker={"color": TRIAL_COLOR, "size": 9}, showlegend=False,
            error_y={"type": "data", "symmetric": False,
                     "array": [(i.high - t.values[metric]) if i else 0 for t, i in zip(shown, errors)],
                     "arrayminus": [(t.values[metric] - i.low) if i else 0 for t, i in zip(shown, errors)]},
            text=[trial_hover(t.number, {metric: t.values[metric], p.domain_metric: t.domain}, t.settings)
                  for t in shown],
            hovertemplate="%{text}<extra></extra>"), row=r, col=c)
        if metric in p.base_values:
            fig.add_hline(y=p.base_values[metric], line={"color": FRONT_COLOR, "dash": "dash"}, row=r, col=c,
                          annotation_text=f"base model {p.base_values[metric]:.3g}", annotation_position="top left")
        fig.update_xaxes(title_text=p.domain_metric, row=r, col=c)
        fig.update_yaxes(title_text=metric, row=r, col=c)
    fig.update_layout(title=TITLE)
    return FigureBlock(KEY, TITLE, fig, p.note)


def table(p: Privacy) -> str | None:
    """Which settings raise memorisation (Spearman over trials), then the trials, most memorising first."""
    if not p.trials:
        return None
    parts = []
    if p.effects:
        body = [[fmt(e.setting), fmt(e.metric), num(e.rho), f"[{e.low:+.2f}, {e.high:+.2f}]", fmt(e.trials)]
                for e in p.effects]
        parts.append(html_table(["setting", "metric", "Spearman rho", "95 % interval (bootstrap over trials)",
                                 "trials"], body))
    first = p.metrics[0]
    ranked = sorted(p.trials, key=lambda t: -t.values.get(first, -np.inf))
    head = ["trial", *COLUMNS, *p.metrics, p.domain_metric]
    body = [[fmt("base model"), *["–"] * len(COLUMNS),
             *[with_interval(p.base_values.get(m), p.base.get(m)) for m in p.metrics], "–"]] if p.base_values else []
    body += [[fmt(t.number), *[fmt(t.settings.get(s)) for s in COLUMNS],
              *[with_interval(t.values.get(m), t.intervals.get(m)) for m in p.metrics], num(t.domain)]
             for t in ranked]
    parts.append(html_table(head, body))
    return "\n".join(parts)
