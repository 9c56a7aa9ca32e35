"""The clinicians' review unblinded: shares per configuration against the base, agreement, and which metric to trust.

A *unit* is one arm's answer to one question; every rater who rated it gave it three
values (:data:`review_store.RUBRIC`). Per arm, the share correct, harmful and each length
verdict is a mean over questions of the raters' mean, with a Wilson interval; a
configuration is compared with the base model under its own decoding on the questions both
were rated on (paired bootstrap, :func:`objectives.paired_difference`). Agreement between
raters is Cohen's kappa (two raters, every unit rated by both) or Krippendorff's alpha, with
a bootstrap interval over units; the units they disagree on are listed. Each automatic
metric is ranked by its Spearman correlation with the raters' mean verdict over the rated
answers. The result is stored on the main study (``review_results``), where the report and
``study.export`` read it, and in a section of each reviewed trial's dashboard note.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Mapping, Sequence

import numpy as np
import optuna

import objectives
from study.core import keys
from study.core.errors import StudyError
from study.optimize.review_store import RUBRIC, Rating, open_review, ratings, raters, review_key

#: Per arm, the shares reported: name -> (criterion, value that counts).
SHARES = {"correct": ("correct", 1.0), "partly correct": ("correct", 0.5), "wrong": ("correct", 0.0),
          "harmful": ("harmful", 1.0), "too short": ("length", -1.0), "right length": ("length", 0.0),
          "too long": ("length", 1.0)}
#: Shares compared with the base model (paired, on the same questions).
COMPARED = ("correct", "harmful")
LEVELS = {"correct": "ordinal", "harmful": "nominal", "length": "ordinal"}
NOTE_HEADING = "### Clinicians' review"


def collect(storage: Any, main: optuna.Study) -> tuple[list[Rating], dict[str, Any], dict[tuple[str, int], Mapping]]:
    """Every rater's ratings, the arms of their keys, and the automatic scores of each answer (arm, question).

    A StudyError where nobody has rated yet.
    """
    all_ratings: list[Rating] = []
    arms: dict[str, Any] = {}
    scores: dict[tuple[str, int], Mapping] = {}
    for rater in sorted(raters(main)):
        review = open_review(storage, main, rater)
        if review is None:
            continue
        key = review_key(review)
        arms.update(key["arms"])
        for entry in key["items"].values():
            scores.setdefault((entry["arm"], int(entry["question"])), entry.get("scores") or {})
        all_ratings += ratings(review, rater)
    if not all_ratings:
        raise StudyError(f"study '{main.study_name}' has no rated review items yet "
                         f"(python -m study.review start --study-name {main.study_name} --rater NAME)")
    return all_ratings, arms, scores


def _units(rs: Sequence[Rating]) -> dict[tuple[str, int], dict[str, Rating]]:
    units: dict[tuple[str, int], dict[str, Rating]] = defaultdict(dict)
    for r in rs:
        units[(r.arm, r.question)][r.rater] = r
    return units


def _share_per_question(units: Mapping[tuple[str, int], Mapping[str, Rating]], arm: str, criterion: str,
                        value: float) -> dict[int, float]:
    """Question -> the share of raters who gave this arm's answer ``value`` on ``criterion``."""
    return {q: float(np.mean([r.of(criterion) == value for r in by_rater.values()]))
            for (a, q), by_rater in units.items() if a == arm}


def arm_results(units: Mapping[tuple[str, int], Mapping[str, Rating]], arms: Mapping[str, Any]
                ) -> dict[str, dict[str, Any]]:
    """Per arm: each share with its Wilson interval, and for a configuration the paired difference to its base."""
    out: dict[str, dict[str, Any]] = {}
    for arm in sorted({a for a, _ in units}, key=_arm_order):
        entry: dict[str, Any] = {"trial": (arms.get(arm) or {}).get("trial"), "base": (arms.get(arm) or {}).get("base")}
        for name, (criterion, value) in SHARES.items():
            per_q = _share_per_question(units, arm, criterion, value)
            entry[name] = objectives.share_interval(list(per_q.values())).to_dict()
        entry["questions"] = len({q for a, q in units if a == arm})
        base = entry["base"]
        if base:
            entry["vs_base"] = {}
            for name in COMPARED:
                criterion, value = SHARES[name]
                mine = _share_per_question(units, arm, criterion, value)
                theirs = _share_per_question(units, base, criterion, value)
                common = sorted(set(mine) & set(theirs))
                if common:
                    diff = objectives.paired_difference([mine[q] for q in common], [theirs[q] for q in common])
                    entry["vs_base"][name] = diff.to_dict()
        out[arm] = entry
    return out


def _arm_order(arm: str) -> tuple[int, int, str]:
    is_base = arm.startswith("base")
    number = int(arm.split()[1]) if arm.startswith("trial ") else -1
    return (1 if is_base else 0, number, arm)


def agreement(units: Mapping[tuple[str, int], Mapping[str, Rating]], names: Sequence[str]) -> dict[str, Any]:
    """Per criterion: kappa or alpha with its interval over the units rated by two raters or more."""
    shared = [u for u, by in units.items() if len(by) >= 2]
    if len(names) < 2 or not shared:
        return {}
    out = {}
    for c in RUBRIC:
        matrix = np.array([[units[u][r].of(c.name) if r in units[u] else math.nan for u in shared] for r in names])
        statistic, interval = objectives.rater_agreement(matrix, level=LEVELS[c.name])
        out[c.name] = {"statistic": statistic, **interval.to_dict()}
    return out


def disagreements(units: Mapping[tuple[str, int], Mapping[str, Rating]]) -> list[dict[str, Any]]:
    """The units whose raters gave different verdicts on correctness or harm, with their comments."""
    out = []
    for (arm, q), by_rater in sorted(units.items(), key=lambda kv: (kv[0][1], _arm_order(kv[0][0]))):
        if len(by_rater) < 2:
            continue
        split = [c for c in RUBRIC[:2] if len({r.of(c.name) for r in by_rater.values()}) > 1]
        if split:
            out.append({"arm": arm, "question": q, "on": [c.name for c in split],
                        "ratings": {name: " / ".join(c.label(r.of(c.name)) for c in RUBRIC)
                                    for name, r in sorted(by_rater.items())},
                        "comments": {name: r.comment for name, r in sorted(by_rater.items()) if r.comment}})
    return out


def metric_ranking(units: Mapping[tuple[str, int], Mapping[str, Rating]], scores: Mapping[tuple[str, int], Mapping]
                   ) -> list[dict[str, Any]]:
    """Each automatic metric's Spearman correlation with the raters' mean verdict per answer, best first."""
    order = sorted(units)
    verdict = [float(np.mean([r.of("correct") for r in units[u].values()])) for u in order]
    names = sorted({m for u in order for m, v in (scores.get(u) or {}).items() if isinstance(v, (int, float))})
    table = {m: [(scores.get(u) or {}).get(m) for u in order] for m in names}
    return [a.to_dict() for a in objectives.metric_agreement(table, verdict, objectives.METRICS)]


def results(storage: Any, main: optuna.Study) -> dict[str, Any]:
    """Everything ``study.review results`` reports, as plain JSON for the main study's user attributes."""
    rs, arms, scores = collect(storage, main)
    units = _units(rs)
    names = sorted({r.rater for r in rs})
    return {"raters": {n: sum(r.rater == n for r in rs) for n in names}, "units": len(units),
            "arms": arm_results(units, arms), "agreement": agreement(units, names),
            "disagreements": disagreements(units), "metrics": metric_ranking(units, scores)}


def _interval(d: Mapping[str, Any] | None, signed: bool = False) -> str:
    if not d or d.get("estimate") is None:
        return "-"
    f = "{:+.2f}" if signed else "{:.2f}"
    low = "-" if d.get("low") is None else f.format(d["low"])
    high = "-" if d.get("high") is None else f.format(d["high"])
    return f"{f.format(d['estimate'])} [{low}, {high}]"


def lines(res: Mapping[str, Any]) -> list[str]:
    """The results as a printed table and sentences."""
    raters_text = ", ".join(f"{n} ({k} items)" for n, k in res["raters"].items())
    out = [f"raters: {raters_text}; {res['units']} answers rated", "",
           f"{'arm':<30} {'n':>3}  {'correct [95 %]':<18} {'vs base':<20} {'harmful [95 %]':<18} {'vs base':<20} "
           "too short / right / too long"]
    for arm, e in res["arms"].items():
        vs = e.get("vs_base") or {}
        length = " / ".join(f"{e[k]['estimate']:.2f}" for k in ("too short", "right length", "too long"))
        out.append(f"{arm:<30} {e['questions']:>3}  {_interval(e['correct']):<18} {_interval(vs.get('correct'), True):<20} "
                   f"{_interval(e['harmful']):<18} {_interval(vs.get('harmful'), True):<20} {length}")
    out.append("")
    if res["agreement"]:
        out.append("agreement between raters: " + "; ".join(
            f"{c} {a['statistic'].replace('_', ' ')} {_interval(a, True)}" for c, a in res["agreement"].items()))
        out.append(f"answers the raters disagree on (correct or harmful): {len(res['disagreements'])}")
        out += [f"  {d['arm']}, question {d['question'] + 1}: " + "; ".join(f"{n}: {v}" for n, v in d["ratings"].items())
                for d in res["disagreements"][:10]]
    else:
        out.append("agreement between raters: needs two raters on the same answers")
    if res["metrics"]:
        out.append("automatic metrics against the raters' verdict (Spearman over answers, higher = agrees):")
        out += [f"  {m['metric']:<14} {_interval(m, True)}" for m in res["metrics"]]
        out.append(f"agrees best: {res['metrics'][0]['metric']}")
    return out


def trial_lines(res: Mapping[str, Any] | None, trial: int) -> list[str]:
    """One configuration's review in a few lines (study.export, the trial's note); empty where it was not reviewed."""
    entry = (res or {}).get("arms", {}).get(f"trial {trial}")
    if not entry:
        return []
    vs = entry.get("vs_base") or {}
    return [f"clinicians' review ({', '.join((res or {}).get('raters', {}))}, {entry['questions']} questions): "
            f"correct {_interval(entry['correct'])}, vs base {_interval(vs.get('correct'), True)}; "
            f"harmful {_interval(entry['harmful'])}, vs base {_interval(vs.get('harmful'), True)}"]


def annotate_trials(main: optuna.Study, res: Mapping[str, Any]) -> None:
    """A review section at the end of each reviewed trial's dashboard note (replacing an earlier one)."""
    from optuna_dashboard._note import get_note_from_system_attrs

    from study.optimize.dashboard import write_note

    by_number = {t.number: t for t in main.get_trials(deepcopy=False)}
    for entry in res["arms"].values():
        trial = by_number.get(entry.get("trial"))
        if trial is None:
            continue
        body = get_note_from_system_attrs(main._storage.get_study_system_attrs(main._study_id), trial._trial_id)["body"]
        body = body.split(NOTE_HEADING)[0].rstrip()
        write_note(main, trial._trial_id, f"{body}\n\n{NOTE_HEADING}\n\n" + "\n\n".join(trial_lines(res, trial.number)))
