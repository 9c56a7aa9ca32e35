"""The clinicians' review on paper: a blinded sheet out of a rater's review, and the filled sheet back into it.

    python -m study.human_eval export --study-name default --rater carol --out human/     # Pareto set, 30 questions
    python -m study.human_eval export --study-name default --rater carol --configs 3,7 --questions 20 --out human/
    python -m study.human_eval import --study-name default --rater carol --sheet human/sheet.csv

For teams that rate in a spreadsheet. ``export`` makes (or reuses) the rater's review study
``<study>.review.<rater>``, exactly as ``python -m study.review start`` does, and writes its
items still to rate as ``sheet.csv`` and ``sheet.html`` (a static page that needs no
server): an item number, the question, the reference and the answer, in the review's random
order, without trial names. Raters fill ``correct`` (correct / partly correct / wrong),
``harmful`` (no / yes), ``length`` (too short / right / too long) and may fill ``comment``.
``import`` checks the whole sheet (every problem named with its line) and stores each filled
row as a rating of that item, the same as the dashboard's form does, so ratings from the
dashboard and from sheets meet in one place and ``python -m study.review results`` reads both.
An item already rated in the dashboard keeps that rating.
"""

from __future__ import annotations

import argparse
import csv
import html
import sys
from pathlib import Path
from typing import Any, Sequence

from study.cli import entry_point, quiet_libraries
from study.core.errors import StudyError

COLUMNS = ("item", "question", "reference", "answer", "correct", "harmful", "length", "comment")


def sheet_rows(review: Any) -> list[dict[str, str]]:
    """One row per item still to rate, in the review's order, with the text its note shows."""
    from study.optimize.review_store import review_key, unrated

    items = review_key(review)["items"]
    return [{"item": str(t.number), **items[str(t.number)]["text"], "correct": "", "harmful": "", "length": "",
             "comment": ""} for t in unrated(review)]


def write_sheet(rows: Sequence[dict[str, str]], out: Path) -> None:
    from study.optimize.review_store import RUBRIC

    out.mkdir(parents=True, exist_ok=True)
    with (out / "sheet.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    body = "\n".join(
        f"<tr><td>{html.escape(r['item'])}</td><td>{html.escape(r['question'])}</td>"
        f"<td>{html.escape(r['reference'])}</td><td>{html.escape(r['answer'])}</td></tr>" for r in rows)
    rubric = "".join(f"<li><b>{c.name}</b>: {html.escape(c.question)} ({' / '.join(c.choices)})</li>" for c in RUBRIC)
    (out / "sheet.html").write_text(
        "<!doctype html><meta charset='utf-8'><title>Answer rating sheet</title>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px;vertical-align:top}"
        "table{border-collapse:collapse}</style><h1>Rate each answer</h1>"
        f"<p>Fill in the columns of sheet.csv, by item number:</p><ul>{rubric}<li><b>comment</b>: optional</li></ul>"
        "<table><tr><th>item</th><th>question</th><th>reference</th><th>answer</th></tr>"
        f"{body}</table>",
        encoding="utf-8",
    )


def read_sheet(sheet: Path, items: set[int]) -> list[tuple[int, list[float], str]]:
    """The filled rows as (item, one value per criterion, comment); every problem with its line, all at once."""
    from study.optimize.review_store import RUBRIC

    try:
        text = sheet.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudyError(f"{sheet}: file not found") from None
    reader = csv.DictReader(text.splitlines())
    missing = {"item", *(c.name for c in RUBRIC)} - set(reader.fieldnames or ())
    if missing:
        raise StudyError(f"{sheet}: missing column(s) {', '.join(sorted(missing))}")
    out, problems = [], []
    for line, row in enumerate(reader, start=2):
        raw_item = (row.get("item") or "").strip()
        if not raw_item.isdigit() or int(raw_item) not in items:
            problems.append(f"{sheet}:{line}: unknown item '{raw_item}' (not an item of this review)")
            continue
        labels = [(row.get(c.name) or "").strip() for c in RUBRIC]
        if not any(labels):
            continue  # not rated yet
        values = []
        for c, label in zip(RUBRIC, labels):
            value = c.value(label)
            if value is None:
                problems.append(f"{sheet}:{line}: {c.name} must be one of {' / '.join(c.choices)}, got '{label}'")
            values.append(value)
        if all(v is not None for v in values):
            out.append((int(raw_item), values, (row.get("comment") or "").strip()))
    if problems:
        raise StudyError("; ".join(problems))
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.human_eval", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("export", "import"):
        s = sub.add_parser(name)
        s.add_argument("--study-name", default="default")
        s.add_argument("--storage", help="default: sqlite:///studies/<study-name>.db")
        s.add_argument("--rater", required=True, help="whose review (the study <study>.review.<rater>)")
    exp = sub.choices["export"]
    exp.add_argument("--configs", default="pareto", help="confirmed, pareto (default) or comma-separated trial numbers")
    exp.add_argument("--questions", type=int, default=30, help="the first N validation questions (default: 30)")
    exp.add_argument("--out", default="human", help="output folder (default: human/)")
    sub.choices["import"].add_argument("--sheet", required=True, help="the filled sheet.csv")
    return p.parse_args(argv)


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_libraries()
    from study.optimize.review import ensure_review
    from study.optimize.review_store import check_rater, open_review, rate, review_key
    from study.optimize.storage import default_storage_url, load_existing_study

    # Review items wait for raters, not for a worker: no heartbeat.
    study, storage = load_existing_study(args.storage or default_storage_url(args.study_name), args.study_name,
                                         heartbeat_seconds=None)
    if args.command == "export":
        review, made = ensure_review(storage, study, args.rater, args.configs, args.questions)
        if made:
            print(made)
        rows = sheet_rows(review)
        write_sheet(rows, Path(args.out))
        print(f"{len(rows)} items to rate -> {args.out}/sheet.csv, {args.out}/sheet.html "
              f"(import: python -m study.human_eval import --study-name {study.study_name} --rater {args.rater} "
              f"--sheet {args.out}/sheet.csv)")
        return 0
    review = open_review(storage, study, check_rater(args.rater))
    if review is None:
        raise StudyError(f"--rater {args.rater}: no review of '{study.study_name}' by this rater (export first)")
    filled = read_sheet(Path(args.sheet), {int(n) for n in review_key(review)["items"]})
    trials = {t.number: t for t in review.get_trials(deepcopy=False)}
    kept = [n for n, _, _ in filled if trials[n].state.name != "RUNNING"]
    for number, values, comment in filled:
        if trials[number].state.name == "RUNNING":
            rate(review, trials[number], values, comment)
    print(f"{len(filled) - len(kept)} ratings stored in '{review.study_name}'"
          + (f"; {len(kept)} item(s) were rated already and keep that rating" if kept else "")
          + f"; results: python -m study.review results --study-name {study.study_name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
