"""What the confirmation runs show: per configuration and metric the seed mean, its noise and its gains.

:mod:`study.optimize.confirmation` runs the confirmation study ``<name>.confirm``; this module
reads it. :func:`summarise` writes the table onto the main study (user attribute ``confirmed``),
and the sentences a user reads come from it: the validation verdict (optimistic, on the
questions that chose the configurations) and the claim on the untouched test split.
"""

from __future__ import annotations

import dataclasses
import statistics
from typing import Any, Sequence

import optuna
from optuna.trial import FrozenTrial, TrialState

import objectives
from study.core import keys
from study.optimize.records import trial_config
from study.optimize.reference import is_base

BASE = "base"  # the user attribute ``confirms`` of a run of the base model


def inference_key(trial: FrozenTrial) -> str:
    """The trial's inference key with every validation question (confirmation scores them all)."""
    cfg = trial_config(trial)
    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, max_val_examples=None),
                               training=dataclasses.replace(cfg.training, seed=0)).inference_key()


def base_key(by_number: dict[int, FrozenTrial], run: FrozenTrial) -> str | None:
    """The inference key a base run answered with: that of the trial it stands beside, else the base trial's."""
    like = run.user_attrs.get(keys.BASE_LIKE)
    source = by_number.get(like) if like is not None else next((t for t in by_number.values() if is_base(t)), None)
    return inference_key(source) if source is not None else None


def summarise(study: optuna.Study, confirm: optuna.Study, metrics: Sequence[str]) -> dict[int, dict[str, Any]]:
    """Per confirmed trial and metric: seed mean, seed SD, interval and gain; written onto the main trials."""
    runs = [t for t in confirm.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    base_runs = {base_key(by_number, t): t for t in runs if t.user_attrs.get(keys.CONFIRMS) == BASE}
    bases = {key: t.user_attrs.get(keys.PER_QUESTION) for key, t in base_runs.items()}
    base_trial = next((t for t in by_number.values() if is_base(t)), None)
    out: dict[int, dict[str, Any]] = {}
    for number in sorted({t.user_attrs[keys.CONFIRMS] for t in runs} - {BASE}):
        mine = [t for t in runs if t.user_attrs.get(keys.CONFIRMS) == number]
        # The base answering with this configuration's decoding and prompt. A confirmation from before
        # 2026-12-07 has only the base trial's run (default decoding), and its gains are marked so.
        key = inference_key(by_number[number])
        fair = key in bases
        base_pq = bases.get(key) or bases.get(inference_key(base_trial) if base_trial is not None else None)
        table = {m: _summary(m, mine, base_pq) for m in metrics}
        for entry in table.values():
            if entry is not None and entry.get("gain") is not None:
                entry["gain"]["against"] = keys.SAME_DECODING if fair else "base trial (default decoding)"
        if fair:
            _add_test_gains(table, mine, base_runs[key])
        table = {m: v for m, v in table.items() if v is not None}
        out[number] = table
    # Optuna freezes a finished trial's attributes: the summary lives on the study, by trial number.
    study.set_user_attr(keys.CONFIRMED, {str(n): t for n, t in out.items()})
    return out


def _summary(metric: str, runs: Sequence[FrozenTrial], base_pq: dict[str, list] | None) -> dict[str, Any] | None:
    values = [keys.trial_metrics(t.user_attrs).get(metric) for t in runs]
    values = [v for v in values if isinstance(v, (int, float))]
    if not values:
        return None
    entry: dict[str, Any] = {"mean": statistics.fmean(values), "seeds": len(values),
                             "sd": statistics.stdev(values) if len(values) > 1 else None}
    series = [t.user_attrs.get(keys.PER_QUESTION, {}).get(metric) for t in runs]
    if all(series) and len({len(s) for s in series}) == 1:
        averaged = [statistics.fmean(col) for col in zip(*series)]  # per question, over seeds
        interval = objectives.mean_interval(averaged)
        entry.update(low=interval.low, high=interval.high, questions=interval.n)
        if base_pq and metric in base_pq:
            gains = objectives.gain_table({metric: averaged}, base_pq, [metric])
            if metric in gains:
                entry["gain"] = gains[metric]
    return entry


def _add_test_gains(table: dict[str, Any], runs: Sequence[FrozenTrial], base: FrozenTrial) -> None:
    """The seed-averaged gain over the base (same decoding) on the test split, which chose nothing: ``test_gain``."""
    base_pq = base.user_attrs.get(keys.TEST_PER_QUESTION) or {}
    tests = [t.user_attrs.get(keys.TEST_PER_QUESTION) or {} for t in runs]
    for metric, entry in table.items():
        series = [t.get(metric) for t in tests]
        if entry is None or metric not in base_pq or not all(series) or len({len(s) for s in series}) != 1:
            continue
        averaged = [statistics.fmean(col) for col in zip(*series)]
        gains = objectives.gain_table({metric: averaged}, base_pq, [metric])
        if metric in gains:
            entry["test_gain"] = {**gains[metric], "against": keys.SAME_DECODING}


def confirmed(study: optuna.Study) -> dict[int, dict[str, Any]]:
    """The confirmation summary a study holds: trial number -> metric -> seed mean, SD, interval, gain."""
    return {int(n): table for n, table in (study.user_attrs.get(keys.CONFIRMED) or {}).items()}


def noise_floor(table: dict[int, dict[str, Any]], metric: str) -> float | None:
    """The median seed-to-seed standard deviation of ``metric`` over the confirmed configurations."""
    sds = [t[metric]["sd"] for t in table.values() if metric in t and t[metric].get("sd") is not None]
    return statistics.median(sds) if sds else None


def table_lines(table: dict[int, dict[str, Any]], metric: str, maximize: bool) -> list[str]:
    """The confirmed configurations ranked by their seed mean of ``metric``."""
    rows = sorted(((n, t[metric]) for n, t in table.items() if metric in t),
                  key=lambda r: r[1]["mean"], reverse=maximize)
    lines = [f"{'trial':>6} {'seeds':>5} {metric + ' mean':>14} {'seed sd':>8}  {'95 % interval':<18} gain vs base [95 %]"]
    for number, e in rows:
        sd = "-" if e.get("sd") is None else f"{e['sd']:.4f}"
        interval = f"[{e['low']:.4f}, {e['high']:.4f}]" if "low" in e else "-"
        g = e.get("gain")
        gain = f"{g['gain']:+.4f} [{g['gain_ci95'][0]:+.4f}, {g['gain_ci95'][1]:+.4f}]" if g else "-"
        t = e.get("test_gain")
        test = f"   test {t['gain']:+.4f} [{t['gain_ci95'][0]:+.4f}, {t['gain_ci95'][1]:+.4f}]" if t else ""
        lines.append(f"{number:>6} {e['seeds']:>5} {e['mean']:>14.4f} {sd:>8}  {interval:<18} {gain}{test}")
    return lines


def held_out_verdict(table: dict[int, dict[str, Any]], metric: str, maximize: bool) -> str | None:
    """The claim on questions that chose nothing: the best confirmed configuration (by its validation seed
    mean, as export picks it) against the base with the same decoding on the untouched test split."""
    ranked = sorted((n for n, t in table.items() if metric in t), key=lambda n: table[n][metric]["mean"],
                    reverse=maximize)
    if not ranked or not table[ranked[0]][metric].get("test_gain"):
        return None
    n, entry = ranked[0], table[ranked[0]][metric]
    gain = objectives.Gain.from_dict(entry["test_gain"])
    if gain is None:
        return None
    where = (f"mean of {entry['seeds']} seeds, {gain.questions} test questions that chose nothing, "
             "against the base model answering with the same decoding")
    return f"{metric}: " + objectives.verdict(metric, gain, maximize, who=f"trial {n}, the best confirmed,", where=where)


def verdict(table: dict[int, dict[str, Any]], metric: str, maximize: bool) -> str:
    """One plain sentence: does any confirmed configuration beat the base model on ``metric``?"""
    stored = {n: t[metric]["gain"] for n, t in table.items() if metric in t and t[metric].get("gain")}
    gains = {n: g for n, raw in stored.items() if (g := objectives.Gain.from_dict(raw)) is not None}
    if not gains:
        return f"{metric}: no gain over the base model could be computed (the base model was not scored)"
    best = objectives.best_gain(gains, maximize)
    where = f"mean of {table[best][metric]['seeds']} seeds, {gains[best].questions} questions; {_basis(stored[best])}"
    return f"{metric}: " + objectives.best_verdict(metric, gains, maximize, where=where)


def _basis(gain: dict[str, Any]) -> str:
    """Against which base, on which questions: a validation gain is on the questions that chose the configuration."""
    against = gain.get("against") or "the base trial (default decoding)"
    return (f"against the {against}; validation questions, which chose these configurations: optimistic, "
            "the untouched test split is study.export's")
