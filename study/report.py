"""Write a study's report: one self-contained HTML file with the Pareto front, history,
parameter importances, pruning curves, metric correlations, base model versus exported
trials on the test split, forgetting versus domain gain, continued pre-training on/off,
the answer-length trade-off, human ratings, and the best trials' answers beside the references.

    python -m study.report [--study-name NAME] [--storage URL] [--out PATH]
    python -m study.report --study-name smoke      # studies/smoke.db -> reports/out/smoke.html
    python -m study.report --study-name heart --storage postgresql://user@host/db --out heart.html

Defaults: study 'default', storage sqlite:///studies/<study-name>.db, output
reports/out/<study-name>.html. plotly.js is embedded, so the file opens offline without a server.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from study.cli import entry_point, quiet_libraries
from study.core.errors import StudyError
from study.core.keys import PRUNING_SUFFIX

REPORTS_DIR = Path("reports/out")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.report", description=__doc__.split("\n\n")[0])
    p.add_argument("--study-name", default="default", metavar="NAME", help="study name (default: default)")
    p.add_argument("--storage", metavar="URL", help="Optuna storage URL (default: sqlite:///studies/<study-name>.db)")
    p.add_argument("--out", type=Path, metavar="PATH", help="HTML file to write (default: reports/out/<study-name>.html)")
    return p.parse_args(argv)


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_libraries()

    import optuna

    from reports import write_report
    from study.optimize.storage import default_storage_url, existing_study, load_existing_study

    storage_url = args.storage or default_storage_url(args.study_name)
    study, storage = load_existing_study(storage_url, args.study_name)
    pruning_name = args.study_name + PRUNING_SUFFIX
    pruning = optuna.load_study(study_name=pruning_name, storage=storage) if existing_study(storage, pruning_name) else None
    out = args.out or REPORTS_DIR / f"{args.study_name}.html"
    try:
        write_report(study, out, pruning)
    except OSError as exc:
        raise StudyError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
