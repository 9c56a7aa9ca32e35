"""Run a study: Optuna proposes configurations, each trial fine-tunes and scores a LoRA adapter.

    python -m study.run --trials 50                       # the default study
    python -m study.run --space smoke                     # a 3-trial check, about a minute
    python -m study.run --objectives rougeL:max,answer_words:min --pruner hyperband
    python -m study.run --storage postgresql://user@host/db --study-name heart

Running the same command again resumes the study. Watch it with
``optuna-dashboard sqlite:///studies/<study-name>.db``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from study.cli import entry_point, quiet_libraries
from study.errors import StudyError

FIXED_SECTIONS = ("model",)
SETTING_FLAGS = {
    "objectives": "--objectives",
    "sampler": "--sampler",
    "pruner": "--pruner",
    "pruning_metric": "--pruning-metric",
    "n_trials": "--trials",
}
FIXED_DATA_KEYS = ("path", "split_seed", "val_fraction", "test_fraction", "max_train_examples", "max_val_examples")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--space", default="default", help="bundled space name or YAML path (default: default)")
    p.add_argument("--trials", type=int, help="trials to run now (default: the space's study.n_trials)")
    p.add_argument("--model", help="'smollm2-135m', a local model directory, or a hub id (with --allow-hub)")
    p.add_argument("--data", help="JSONL file or directory with train/val/test.jsonl (default: bundled set)")
    p.add_argument("--storage", help="Optuna storage URL (default: sqlite:///studies/<study-name>.db)")
    p.add_argument("--study-name", help="study name (default: the space's name)")
    p.add_argument("--objectives", help="comma-separated metric:max|min, e.g. rougeL:max,train_seconds:min")
    p.add_argument("--sampler", help="tpe, nsga2, gp, random or grid")
    p.add_argument("--pruner", help="none, median, successive_halving, hyperband or wilcoxon")
    p.add_argument("--pruning-metric", help="validation metric the pruner watches (e.g. eval_loss, rougeL)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed (default: 0)")
    p.add_argument("--device", help="auto, cpu or cuda (default: the space's model.device)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="fix any config value, e.g. --set training.epochs=1 (repeatable)")
    p.add_argument("--allow-hub", action="store_true", help="allow downloading models from the Hugging Face hub")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (one line per trial only)")
    return p.parse_args(argv)


def _settings(space: Any, args: argparse.Namespace) -> Any:
    from dataclasses import replace

    from study.config import StudySettings, check_value

    overrides = {
        "objectives": tuple(s.strip() for s in args.objectives.split(",")) if args.objectives else None,
        "sampler": args.sampler,
        "pruner": args.pruner,
        "pruning_metric": args.pruning_metric,
        "n_trials": args.trials,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    problems = []
    for key, value in overrides.items():
        problem = check_value(StudySettings, key, value)
        if problem:
            problems.append(f"{SETTING_FLAGS[key]} {problem}")
    if problems:
        raise StudyError.collect(problems, "command line")
    return replace(space.settings, **overrides)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    import yaml

    from study.config import SECTIONS

    out: dict[str, Any] = {}
    if args.model:
        out["model.name"] = args.model
    if args.data:
        out["data.path"] = args.data
    if args.device:
        out["model.device"] = args.device
    for item in args.set:
        key, sep, raw = item.partition("=")
        section, _, name = key.partition(".")
        if not sep or section not in SECTIONS or not name:
            raise StudyError(f"--set {item}: expected SECTION.KEY=VALUE with SECTION one of {', '.join(SECTIONS)}")
        out[key] = yaml.safe_load(raw)
    return out


def _check_fixed(space: Any) -> None:
    """Model and data are loaded once per process, so they cannot vary between trials."""
    searched = [
        name for name in space.dimensions
        if name.split(".")[0] in FIXED_SECTIONS or name in {f"data.{k}" for k in FIXED_DATA_KEYS}
    ]
    if searched:
        raise StudyError(f"space '{space.name}': {', '.join(searched)} cannot be searched (loaded once per study); fix a value")


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_libraries(allow_hub=args.allow_hub)

    from objectives import parse_objectives
    from search_spaces import load_space
    from study.data import load_splits
    from study.model import resolve_model
    from study.pruning import make_pruner
    from study.storage import default_storage_url, make_sampler, open_storage

    # Everything the user gave is checked before the storage is touched: a typo never
    # leaves a half-made study behind.
    space = load_space(args.space)
    space = space.with_fixed(**_overrides(args))
    _check_fixed(space)
    settings = _settings(space, args)
    objectives = parse_objectives(settings.objectives)
    parse_objectives([settings.pruning_metric], where="--pruning-metric")
    make_pruner(settings.pruner)
    sampler = make_sampler(settings.sampler, args.seed, space.grid() if settings.sampler == "grid" else None)
    base_cfg = space.config({name: _first(dim) for name, dim in space.dimensions.items()})
    splits = load_splits(base_cfg.data)
    resolve_model(base_cfg.model.name, allow_hub=args.allow_hub)
    study_name = args.study_name or space.name
    storage_url = args.storage or default_storage_url(study_name)
    storage = open_storage(storage_url)

    from study.loop import StudyRunner

    runner = StudyRunner(
        space=space,
        settings=settings,
        objectives=objectives,
        storage=storage,
        study_name=study_name,
        sampler=sampler,
        splits=splits,
        base_cfg=base_cfg,
        allow_hub=args.allow_hub,
        show_progress=not args.no_progress,
    )
    started = time.perf_counter()
    try:
        runner.run(settings.n_trials)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: the running trial is marked FAIL, finished trials are kept. "
            f"Resume with the same command (study '{study_name}' in {storage_url}).",
            file=sys.stderr,
        )
        return 130
    print(runner.summary(time.perf_counter() - started, storage_url))
    return 0


def _first(dim: Any) -> Any:
    from search_spaces import Choice

    return dim.values[0] if isinstance(dim, Choice) else dim.low


if __name__ == "__main__":
    sys.exit(main())
