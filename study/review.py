"""Clinicians rate a study's answers in optuna-dashboard, blinded, one review per rater; then the results.

    python -m study.review start --study-name default --rater alice                     # Pareto set, 30 questions
    python -m study.review start --study-name default --rater bob --configs confirmed --questions 20
    python -m study.review start --study-name default --rater alice --configs 7,12
    python -m study.review results --study-name default

``start`` makes the study ``<study>.review.<rater>`` in the study's storage: for each of the
first ``--questions`` validation questions, the answers of the chosen configurations and of
the base model (answering with each configuration's decoding), each an item to rate, in an
order of the rater's own, with nothing naming the configuration. It prints the
``optuna-dashboard`` command and the page to open. Running it again for the same rater
changes nothing and says how many items are left. ``results`` unblinds every rater's
review: per configuration the share correct, harmful and of each length verdict with 95 %
intervals and the paired difference against the base model; agreement between raters; the
answers they disagree on; and which automatic metric agrees best with them. It stores them
on the study (user attribute ``review_results``), where the report and ``study.export``
show them.
"""

from __future__ import annotations

import argparse
import sys

from study.cli import entry_point, quiet_libraries
from study.core.errors import StudyError


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.review", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("start", "results"):
        s = sub.add_parser(name)
        s.add_argument("--study-name", default="default")
        s.add_argument("--storage", help="default: sqlite:///studies/<study-name>.db")
    start = sub.choices["start"]
    start.add_argument("--rater", required=True, help="the rater's name (letters, digits, - and _)")
    start.add_argument("--configs", default="pareto",
                       help="confirmed, pareto (default) or comma-separated trial numbers")
    start.add_argument("--split", default="val", choices=("val", "test"),
                       help="whose answers: val (stored by every trial); test answers are not stored")
    start.add_argument("--questions", type=int, default=30, help="the first N validation questions (default: 30)")
    start.add_argument("--port", type=int, default=8080, help="the port in the printed dashboard command")
    return p.parse_args(argv)


def start(args: argparse.Namespace, storage, study, storage_url: str) -> int:
    from study.optimize.review import ensure_review
    from study.optimize.review_store import unrated

    if args.split == "test":
        raise StudyError("--split test: the study stores no test answers (export scores the test split without "
                         "keeping them); review the validation answers (--split val)")
    review, made = ensure_review(storage, study, args.rater, args.configs, args.questions)
    if made:
        print(made)
    left, total = len(unrated(review)), len(review.trials)
    print(f"{args.rater}: {total - left} of {total} items rated, {left} left")
    print("open the dashboard (it listens on this machine only):")
    print(f"  optuna-dashboard --host 127.0.0.1 --port {args.port} {storage_url}")
    print(f"then the items still to rate, in study '{review.study_name}':")
    print(f"  http://127.0.0.1:{args.port}/dashboard/studies/{review._study_id}/trials?exclude=Complete")
    print(f"results, once rated: python -m study.review results --study-name {study.study_name}")
    return 0


def results(args: argparse.Namespace, storage, study) -> int:
    from study.core import keys
    from study.optimize.review_results import annotate_trials, lines, results as review_results

    res = review_results(storage, study)
    study.set_user_attr(keys.REVIEW_RESULTS, res)
    annotate_trials(study, res)
    print("\n".join(lines(res)))
    print(f"stored on study '{study.study_name}' (user attribute {keys.REVIEW_RESULTS}); "
          f"report: python -m study.report --study-name {study.study_name}")
    return 0


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_libraries()
    from study.optimize.storage import default_storage_url, load_existing_study

    storage_url = args.storage or default_storage_url(args.study_name)
    # Review items wait for raters, not for a worker: no heartbeat. Loading creates nothing on a typo.
    study, storage = load_existing_study(storage_url, args.study_name, heartbeat_seconds=None)
    if args.command == "start":
        return start(args, storage, study, storage_url)
    return results(args, storage, study)


if __name__ == "__main__":
    sys.exit(main())
