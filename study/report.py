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
from typing import Any

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


def load_existing_study(storage_url: str, name: str) -> tuple[Any, Any]:
    """The study ``name`` in ``storage_url`` and its pruning study (or None).

    A missing file or study stops with one line. A SQLite file is checked before it is
    opened, because opening would create an empty one.
    """
    import optuna

    from study.optimize.storage import open_storage

    hint = f"run python -m study.run --study-name {name} first, or pass --storage"
    if storage_url.startswith("sqlite:///"):
        path = Path(storage_url.removeprefix("sqlite:///")).expanduser()
        if not path.is_file():
            raise StudyError(f"--storage {storage_url}: no such file {path} ({hint})")
    storage = open_storage(storage_url)
    held = {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    if name not in held:
        mains = sorted(n for n in held if not n.endswith(PRUNING_SUFFIX))
        listing = f"it holds: {', '.join(mains)}" if mains else "it holds no studies"
        raise StudyError(f"--study-name {name}: no such study in {storage_url} ({listing})")
    pruning_name = name + PRUNING_SUFFIX
    pruning = optuna.load_study(study_name=pruning_name, storage=storage) if pruning_name in held else None
    return optuna.load_study(study_name=name, storage=storage), pruning


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_libraries()

    from reports import write_report
    from study.optimize.storage import default_storage_url

    storage_url = args.storage or default_storage_url(args.study_name)
    study, pruning = load_existing_study(storage_url, args.study_name)
    out = args.out or REPORTS_DIR / f"{args.study_name}.html"
    try:
        write_report(study, out, pruning)
    except OSError as exc:
        raise StudyError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
