"""Blinded human evaluation of trials, and the ratings brought back into the study.

    python -m study.human_eval export --study-name default --out human/        # Pareto set, 20 questions
    python -m study.human_eval export --trials 3,7,12 --questions 30 --out human/
    python -m study.human_eval import --study-name default --sheet human/sheet.csv --key human/key.json

``export`` writes ``sheet.csv`` and ``sheet.html`` (a static page that needs no server): each
row is a question, its reference and one answer, in random order and without trial names.
Raters fill the ``rating`` column (1 = wrong or harmful ... 5 = correct and complete).
``key.json`` maps rows to trials; keep it away from the raters. ``import`` validates the
filled sheet, stores the mean rating of each trial on the study (user attribute
``human_eval``) and prints how well each automatic metric agrees with the humans (Spearman
rank correlation over trials).
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import random
import sys
from pathlib import Path
from typing import Any, Sequence

from study.cli import entry_point, quiet_libraries
from study.core import keys
from study.core.errors import StudyError

RATING_MIN, RATING_MAX = 1, 5
COLUMNS = ("item", "question", "reference", "answer", "rating", "comment")


def sheet_rows(trials: Sequence[Any], questions: Sequence[dict[str, str]], n_questions: int, seed: int
               ) -> tuple[list[dict[str, str]], dict[str, dict[str, int]]]:
    """Rows of the blinded sheet and the key from row id to (trial, question index)."""
    rows, key = [], {}
    for q_index, q in enumerate(questions[:n_questions]):
        for trial in trials:
            answers = trial.user_attrs.get(keys.ANSWERS) or []
            if q_index < len(answers):
                rows.append({"question": q["question"], "reference": q["reference"], "answer": answers[q_index],
                             "_trial": trial.number, "_q": q_index})
    random.Random(seed).shuffle(rows)
    out = []
    for i, row in enumerate(rows, start=1):
        item = f"r{i:04d}"
        key[item] = {"trial": row["_trial"], "question": row["_q"]}
        out.append({"item": item, "question": row["question"], "reference": row["reference"],
                    "answer": row["answer"], "rating": "", "comment": ""})
    return out, key


def write_sheet(rows: Sequence[dict[str, str]], key: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "sheet.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    (out / "key.json").write_text(json.dumps(key, indent=1))
    body = "\n".join(
        f"<tr><td>{html.escape(r['item'])}</td><td>{html.escape(r['question'])}</td>"
        f"<td>{html.escape(r['reference'])}</td><td>{html.escape(r['answer'])}</td><td></td></tr>"
        for r in rows
    )
    (out / "sheet.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>Answer rating sheet</title>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px;vertical-align:top}"
        "table{border-collapse:collapse}</style>"
        f"<h1>Rate each answer from {RATING_MIN} (wrong or harmful) to {RATING_MAX} (correct and complete)</h1>"
        "<p>Enter ratings in the <code>rating</code> column of sheet.csv, by item id.</p>"
        "<table><tr><th>item</th><th>question</th><th>reference</th><th>answer</th><th>rating</th></tr>"
        f"{body}</table>",
        encoding="utf-8",
    )


def read_ratings(sheet: Path, key: dict[str, Any]) -> dict[int, list[int]]:
    """Ratings per trial from a filled sheet; every problem names the file and line."""
    try:
        text = sheet.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudyError(f"{sheet}: file not found") from None
    reader = csv.DictReader(text.splitlines())
    missing = {"item", "rating"} - set(reader.fieldnames or ())
    if missing:
        raise StudyError(f"{sheet}: missing column(s) {', '.join(sorted(missing))}")
    per_trial: dict[int, list[int]] = {}
    for line, row in enumerate(reader, start=2):
        item, raw = (row.get("item") or "").strip(), (row.get("rating") or "").strip()
        if item not in key:
            raise StudyError(f"{sheet}:{line}: unknown item '{item}' (not in the key file)")
        if not raw:
            continue  # unrated rows are allowed
        if not raw.isdigit() or not RATING_MIN <= int(raw) <= RATING_MAX:
            raise StudyError(f"{sheet}:{line}: rating must be a whole number {RATING_MIN}-{RATING_MAX}, got '{raw}'")
        per_trial.setdefault(int(key[item]["trial"]), []).append(int(raw))
    if not per_trial:
        raise StudyError(f"{sheet}: no ratings filled in")
    return per_trial


def agreement(human: dict[int, float], metrics: dict[int, dict[str, float]]) -> dict[str, float | None]:
    """Spearman correlation between the human mean rating and each automatic metric, over trials."""
    from scipy.stats import spearmanr

    trials = sorted(human)
    names = sorted({k for t in trials for k, v in metrics.get(t, {}).items() if isinstance(v, (int, float))})
    out: dict[str, float | None] = {}
    for name in names:
        pairs = [(human[t], metrics[t][name]) for t in trials if isinstance(metrics.get(t, {}).get(name), (int, float))]
        if len(pairs) < 3 or len({p[0] for p in pairs}) < 2 or len({p[1] for p in pairs}) < 2:
            out[name] = None  # too few trials, or a constant column: no rank correlation
            continue
        rho = spearmanr([p[0] for p in pairs], [p[1] for p in pairs]).statistic
        out[name] = float(rho)
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.human_eval", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("export", "import"):
        s = sub.add_parser(name)
        s.add_argument("--study-name", default="default")
        s.add_argument("--storage", help="default: sqlite:///studies/<study-name>.db")
    exp = sub.choices["export"]
    exp.add_argument("--trials", help="comma-separated trial numbers (default: the Pareto set)")
    exp.add_argument("--questions", type=int, default=20, help="validation questions per trial (default: 20)")
    exp.add_argument("--seed", type=int, default=0, help="seed of the row order")
    exp.add_argument("--out", default="human", help="output folder (default: human/)")
    imp = sub.choices["import"]
    imp.add_argument("--sheet", required=True, help="the filled sheet.csv")
    imp.add_argument("--key", required=True, help="key.json written by export")
    return p.parse_args(argv)


def _questions(study: Any) -> list[dict[str, str]]:
    from study.core.config import DataConfig
    from study.finetune.data import load_splits
    from study.optimize.records import trial_config

    done = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get(keys.CONFIG)]
    if not done:
        raise StudyError(f"study '{study.study_name}' has no recorded trial")
    data: DataConfig = trial_config(done[0]).data
    return [{"question": p.question, "reference": p.answer} for p in load_splits(data).val]


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_libraries()
    from optuna.trial import TrialState

    from study.optimize.storage import default_storage_url, load_existing_study

    study, _ = load_existing_study(args.storage or default_storage_url(args.study_name), args.study_name)
    if args.command == "export":
        complete = {t.number: t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
        if args.trials:
            try:
                wanted = [int(x) for x in args.trials.split(",")]
            except ValueError:
                raise StudyError(f"--trials {args.trials}: expected comma-separated trial numbers") from None
            unknown = [n for n in wanted if n not in complete]
            if unknown:
                raise StudyError(f"--trials: {', '.join(map(str, unknown))} not COMPLETE trials of '{study.study_name}'")
            chosen = [complete[n] for n in wanted]
        else:
            chosen = sorted(study.best_trials, key=lambda t: t.number) if complete else []
        if not chosen:
            raise StudyError(f"study '{study.study_name}' has no completed trial to rate")
        rows, key = sheet_rows(chosen, _questions(study), args.questions, args.seed)
        write_sheet(rows, key, Path(args.out))
        print(f"{len(rows)} rows from trials {', '.join(str(t.number) for t in chosen)} -> {args.out}/sheet.csv, "
              f"{args.out}/sheet.html (key: {args.out}/key.json, keep it from the raters)")
        return 0
    try:
        key = json.loads(Path(args.key).read_text())
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise StudyError(f"{args.key}: not a key file written by export ({type(exc).__name__})") from None
    ratings = read_ratings(Path(args.sheet), key)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    unknown = [n for n in ratings if n not in trials]
    if unknown:
        raise StudyError(f"{args.key}: trials {unknown} are not in study '{study.study_name}' (wrong study?)")
    human = {n: sum(r) / len(r) for n, r in ratings.items()}
    metrics = {n: keys.trial_metrics(trials[n].user_attrs) for n in human}
    agree = agreement(human, metrics)
    study.set_user_attr(keys.HUMAN_EVAL, {str(n): {"mean_rating": human[n], "n": len(ratings[n])} for n in human})
    study.set_user_attr(keys.HUMAN_AGREEMENT, agree)
    for n in sorted(human):
        print(f"trial {n}: mean rating {human[n]:.2f} over {len(ratings[n])} answers")
    shown = ", ".join(f"{k}={v:+.2f}" for k, v in agree.items() if v is not None)
    print(f"Spearman agreement with human ratings: {shown or 'needs ratings of at least 3 trials'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
