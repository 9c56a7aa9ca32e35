"""Confirm the best configurations: re-train each with fresh seeds and compare them with the base model.

    python -m study.confirm --study-name default --top 3 --seeds 3
    python -m study.confirm --study-name heart --storage postgresql://user@host/db --by bertscore_f1

Re-trains the ``--top`` best Pareto trials (by the first objective, or ``--by``) with
``--seeds`` new training seeds each, scores every validation question, and scores the base
model on the same questions. Prints the configurations ranked by their seed mean, with the
seed-to-seed spread (the study's noise floor), the 95 % interval and the gain over the base
model, and says in plain words whether any configuration beats it. ``study.export`` then
prefers the confirmed results. Running it again resumes; several workers share the runs.
"""

from __future__ import annotations

import argparse
import sys

from study.cli import entry_point, quiet_libraries
from study.core.errors import StudyError


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.confirm", description=__doc__.split("\n\n")[0])
    p.add_argument("--study-name", default="default")
    p.add_argument("--storage", help="default: sqlite:///studies/<study-name>.db")
    p.add_argument("--top", type=int, default=3, metavar="K", help="best Pareto trials to confirm (default: 3)")
    p.add_argument("--seeds", type=int, default=3, metavar="N", help="fresh training seeds per trial (default: 3)")
    p.add_argument("--by", help="objective that ranks the trials (default: the first)")
    p.add_argument("--allow-hub", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problems = [f"--{name} must be >= 1, got {value}" for name, value in (("top", args.top), ("seeds", args.seeds))
                if value < 1]
    if problems:
        raise StudyError.collect(problems, "command line")
    quiet_libraries(allow_hub=args.allow_hub)
    from study.optimize.confirmation import confirm
    from study.optimize.storage import default_storage_url, load_existing_study

    storage_url = args.storage or default_storage_url(args.study_name)
    study, storage = load_existing_study(storage_url, args.study_name)
    lines = confirm(study, storage, args.top, args.seeds, args.by, allow_hub=args.allow_hub,
                    show_progress=not args.no_progress)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
