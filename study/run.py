"""Run a study: Optuna proposes configurations, each trial fine-tunes and scores a LoRA adapter.

    python -m study.run --trials 50                       # the default study
    python -m study.run --space smoke                     # a 3-trial check, about a minute
    python -m study.run --objectives rougeL:max,answer_words:min --pruner hyperband
    python -m study.run --storage postgresql://user@host/db --study-name heart --total-trials 200
    python -m study.run --storage postgresql://user@host/db --study-name heart --workers 4 --total-trials 200

Running the same command again resumes the study. Any number of such commands, on any
number of machines, may work on one study in PostgreSQL at once (``--trials`` counts the
trials of each worker, ``--total-trials`` those of the whole study). Watch it with
``optuna-dashboard sqlite:///studies/<study-name>.db``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from study import pruners
from study.cli import add_personal_data_flag, entry_point, quiet_libraries
from study.core import keys
from study.core.errors import StudyError

if TYPE_CHECKING:  # the command imports these only once its flags are checked (fast --help and errors)
    from search_spaces import SearchSpace
    from study.core.settings import StudySettings
    from study.optimize.loop import StudyRunner, TrialFn

MAX_CONSECUTIVE_FAILURES = 5  # study.optimize.loop's default, repeated here so that --help needs no heavy import
HEARTBEAT_SECONDS = 60  # study.optimize.storage's default
EXIT_INTERRUPTED = 130
EXIT_FAILURES = 1

SETTING_FLAGS = {
    "objectives": "--objectives",
    "sampler": "--sampler",
    "pruner": "--pruner",
    "pruning_metric": "--pruning-metric",
    "checks_per_epoch": "--checks-per-epoch",
    "n_trials": "--trials",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--space", default="default", help="bundled space name or YAML path (default: default)")
    p.add_argument("--trials", type=int,
                   help="trials each worker runs at most (default: the space's study.n_trials)")
    p.add_argument("--total-trials", type=int, metavar="T",
                   help="stop once the study holds T finished or running trials, counting every worker's")
    p.add_argument("--workers", type=int, default=1, metavar="K",
                   help="worker processes on this machine, one GPU each on CUDA (default: 1; not with SQLite)")
    p.add_argument("--max-consecutive-failures", type=int, default=MAX_CONSECUTIVE_FAILURES, metavar="K",
                   help=f"stop a worker after K failed trials in a row (default: {MAX_CONSECUTIVE_FAILURES})")
    p.add_argument("--heartbeat", type=int, metavar="SECONDS",
                   help=f"seconds between heartbeats of a running trial; a trial silent for twice as long "
                        f"is failed and its configuration re-run (default: {HEARTBEAT_SECONDS}; SQL storages)")
    p.add_argument("--worker-id", type=int, help=argparse.SUPPRESS)  # set by --workers for each worker
    p.add_argument("--model", help="'smollm2-135m', a local model directory, or a hub id (with --allow-hub)")
    p.add_argument("--data", help="JSONL file or directory with train/val/test.jsonl (default: bundled set)")
    p.add_argument("--storage", help="Optuna storage URL (default: sqlite:///studies/<study-name>.db); "
                                     "for several workers postgresql://user@host/db or journal:///path/study.log")
    p.add_argument("--study-name", help="study name (default: the space's name)")
    p.add_argument("--artifact-dir", metavar="DIR",
                   help="where each trial's predictions go, for optuna-dashboard --artifact-dir "
                        "(default: studies/<study-name>-artifacts beside a SQLite file; none for other storages)")
    p.add_argument("--save-adapters", action="store_true",
                   help="also store the LoRA adapter of every trial on the Pareto front when it ends, as "
                        "trial-<n>-adapter.zip in its artifacts (load it with peft.PeftModel.from_pretrained)")
    p.add_argument("--objectives", help="comma-separated metric:max|min, e.g. rougeL:max,train_seconds:min")
    p.add_argument("--sampler", help="tpe, nsga2, gp, random or grid")
    p.add_argument("--pruner", metavar="NAME",
                   help=f"one of {', '.join(pruners.names())} (its settings: the space's study.pruner; "
                        "--explain pruner lists them)")
    p.add_argument("--pruning-metric", help="validation metric the pruner watches (e.g. eval_loss, rougeL)")
    p.add_argument("--checks-per-epoch", type=int, metavar="K",
                   help="times an epoch the pruner sees the pruning metric (default: the space's, usually 2)")
    p.add_argument("--seed", type=int, default=0,
                   help="sampler seed (default: 0); with SQLite, plus the trials the study already holds; "
                        "shared storages seed each worker at random")
    p.add_argument("--device", help="auto, cpu or cuda (default: the space's model.device)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="fix any config value, e.g. --set training.epochs=1 (repeatable)")
    p.add_argument("--allow-hub", action="store_true", help="allow downloading models from the Hugging Face hub")
    add_personal_data_flag(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars (one line per trial only)")
    p.add_argument("--no-stop", action="store_true",
                   help="run every trial of --trials: the space's stopping rule (study.stop) is off")
    p.add_argument("--explain", nargs="?", const="all", metavar="SECTION",
                   help="print every key of a config section (study, pruner, model, data, lora, training, "
                        "decoding, pretraining, evaluation; default all) with its type, default, range and help, and exit")
    return p.parse_args(argv)


def _settings(space: "SearchSpace", args: argparse.Namespace) -> "StudySettings":
    from dataclasses import replace

    from study.core.fields import check_value
    from study.core.pruner_spec import PrunerSpec
    from study.core.settings import StudySettings

    same_pruner = args.pruner == space.settings.pruner.name  # keeps the settings the space gave it
    overrides = {
        "objectives": tuple(s.strip() for s in args.objectives.split(",")) if args.objectives else None,
        "sampler": args.sampler,
        "pruner": None if args.pruner is None or same_pruner else PrunerSpec(args.pruner),
        "pruning_metric": args.pruning_metric,
        "checks_per_epoch": args.checks_per_epoch,
        "n_trials": args.trials,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    problems = []
    for key, value in overrides.items():
        problem = check_value(StudySettings, key, value)
        if problem:
            problems.append(f"{SETTING_FLAGS[key]} {problem}")
    if "pruner" in overrides:
        problems += pruners.check(overrides["pruner"], SETTING_FLAGS["pruner"])
    if problems:
        raise StudyError.collect(problems, "command line")
    if args.no_stop:
        overrides["stop"] = None
    return replace(space.settings, **overrides)


def _check_run_flags(args: argparse.Namespace) -> None:
    flags = {
        "--total-trials": args.total_trials,
        "--workers": args.workers,
        "--max-consecutive-failures": args.max_consecutive_failures,
        "--heartbeat": args.heartbeat,
    }
    problems = [f"{flag} must be >= 1, got {value}" for flag, value in flags.items() if value is not None and value < 1]
    if problems:
        raise StudyError.collect(problems, "command line")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    import yaml

    from study.core.config import SECTIONS

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


@entry_point
def main(argv: list[str] | None = None, trial_fn: "TrialFn | None" = None) -> int:
    """The command. ``trial_fn`` replaces the real fine-tune in this process (see ``StudyRunner.trial_fn``);
    workers started with ``--workers`` run the real one."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.explain:
        from study.core.config import SECTIONS, explain

        names = ["study", "study.stop", "pruner", *SECTIONS] if args.explain == "all" else [args.explain]
        print("\n\n".join(pruners.explain() if name == "pruner" else explain(name) for name in names))
        return 0
    quiet_libraries(allow_hub=args.allow_hub)
    runner, storage_url = _prepare(args, trial_fn)
    if args.workers > 1:
        return _run_workers(runner, argv, args.workers, storage_url)
    return _run_worker(runner, args, storage_url)


def _prepare(args: argparse.Namespace, trial_fn: "TrialFn | None" = None) -> tuple["StudyRunner", str]:
    """Check everything the user gave, then open the storage; returns the study runner and the storage URL."""
    from search_spaces import check_loaded_once, load_space
    from study.optimize.dashboard import default_artifact_dir
    from study.optimize.loop import StudyRunner
    from study.optimize.preflight import check_study
    from study.optimize.samplers import make_sampler, sampler_seed
    from study.optimize.storage import check_heartbeat, check_shareable, default_storage_url, open_storage

    # Everything the user gave is checked before the storage is touched: a typo never
    # leaves a half-made study behind.
    _check_run_flags(args)
    space = load_space(args.space)
    space = space.with_fixed(**_overrides(args))
    check_loaded_once(space)
    settings = _settings(space, args)
    checked = check_study(space, settings, args.allow_personal_data, args.allow_hub)
    space, base_cfg = checked.space, checked.base_cfg
    if args.worker_id is None:  # a worker started by --workers leaves these to its parent
        for line in checked.said:
            print(line)
        for warning in checked.warnings:
            print(warning, file=sys.stderr)
    study_name = args.study_name or space.name
    storage_url = args.storage or default_storage_url(study_name)
    check_shareable(storage_url, args.workers)
    check_heartbeat(storage_url, args.heartbeat)
    artifact_dir = Path(args.artifact_dir) if args.artifact_dir else default_artifact_dir(storage_url, study_name)
    if args.save_adapters and artifact_dir is None:
        raise StudyError("--save-adapters needs an artifact store: pass --artifact-dir (the storage is not a SQLite file)")

    storage = open_storage(storage_url, heartbeat_seconds=args.heartbeat or HEARTBEAT_SECONDS)
    runner = StudyRunner(
        space=space,
        settings=settings,
        objectives=checked.objectives,
        storage=storage,
        study_name=study_name,
        sampler=make_sampler(settings.sampler, sampler_seed(args.seed, storage_url, storage, study_name),
                             checked.grid),
        splits=checked.splits,
        base_cfg=base_cfg,
        allow_hub=args.allow_hub,
        show_progress=not args.no_progress,
        worker="" if args.worker_id is None else f"[{args.worker_id}] ",
        artifact_dir=artifact_dir,
        save_adapters=args.save_adapters,
        attrs={**checked.personal_data, keys.DATA_SCANNED: True},
        trial_fn=trial_fn,
    )
    return runner, storage_url


def _run_worker(runner: "StudyRunner", args: argparse.Namespace, storage_url: str) -> int:
    """Run trials in this process; a worker started by --workers leaves summary and advice to its parent."""
    from study.optimize.loop import TooManyFailures

    started = time.perf_counter()
    is_worker = args.worker_id is not None
    if is_worker:
        # The parent passes Ctrl-C on as SIGINT. A background job's shell (nohup, `&` in a script, some CI
        # runners) starts it with SIGINT ignored, and the worker would inherit that and never stop.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # SIGTERM (kill, systemd, docker stop) ends the running trial as Ctrl-C does: marked FAIL, resumable.
    previous = signal.signal(signal.SIGTERM, _as_ctrl_c)
    try:
        runner.run(runner.settings.n_trials, total_trials=args.total_trials,
                   max_consecutive_failures=args.max_consecutive_failures)
    except KeyboardInterrupt:
        if not is_worker:
            print(_resume_advice(runner.study_name, storage_url), file=sys.stderr)
        return EXIT_INTERRUPTED
    except TooManyFailures as exc:
        if not is_worker:
            print(runner.summary(time.perf_counter() - started, storage_url))
        print(f"{runner.worker}stopped: {exc}", file=sys.stderr)
        return EXIT_FAILURES
    finally:
        signal.signal(signal.SIGTERM, previous)
    if is_worker:
        done = ", ".join(f"{n} {state.lower()}" for state, n in runner.ran.items()) or "no trials"
        print(f"{runner.worker}worker done: {done}", flush=True)
    else:
        print(runner.summary(time.perf_counter() - started, storage_url))
        _confirm(runner, args)
    return 0


def _as_ctrl_c(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _confirm(runner: "StudyRunner", args: argparse.Namespace) -> None:
    """The space's confirmation stage (``study.confirm_top``), after the trials; off when 0."""
    settings = runner.settings
    if not settings.confirm_top:
        return
    from study.optimize.confirmation import confirm

    started = time.perf_counter()
    lines = confirm(runner.study, runner.storage, settings.confirm_top, settings.confirm_seeds,
                    allow_hub=args.allow_hub, show_progress=not args.no_progress)
    print("\n".join(lines))
    print(f"confirmation: {time.perf_counter() - started:.0f} s "
          f"(again: python -m study.confirm --study-name {runner.study_name} --top {settings.confirm_top} "
          f"--seeds {settings.confirm_seeds})")


def _run_workers(runner: "StudyRunner", argv: list[str], workers: int, storage_url: str) -> int:
    """Start ``workers`` processes of this command on the study and wait for them."""
    import optuna

    from study.optimize.storage import redact
    from study.optimize.summary import summary
    from study.optimize.workers import run_workers

    started = time.perf_counter()
    runner.open()  # the study exists before the workers start: they load it rather than race to create it
    outcome = run_workers(argv, workers, runner.base_cfg.model.device)
    study = optuna.load_study(study_name=runner.study_name, storage=runner.storage)
    print(summary(study, runner.study_name, time.perf_counter() - started, storage_url))
    if runner.settings.confirm_top and not outcome.interrupted:
        print(f"confirm the best trials: python -m study.confirm --study-name {runner.study_name} "
              f"--top {runner.settings.confirm_top} --seeds {runner.settings.confirm_seeds}"
              + ("" if storage_url.startswith("sqlite") else f" --storage {redact(storage_url)}"))
    if outcome.interrupted:
        print(_resume_advice(runner.study_name, storage_url), file=sys.stderr)
        return EXIT_INTERRUPTED
    failed = {i: code for i, code in enumerate(outcome.exit_codes) if code != 0}
    if failed:
        shown = ", ".join(f"{i} (exit code {code})" for i, code in failed.items())
        print(f"stopped: worker {shown} ended early; the reason is in its lines above", file=sys.stderr)
        return EXIT_FAILURES
    return 0


def _resume_advice(study_name: str, storage_url: str) -> str:
    from study.optimize.storage import redact

    return (
        f"\ninterrupted: the running trial is marked FAIL, finished trials are kept. "
        f"Resume with the same command (study '{study_name}' in {redact(storage_url)})."
    )


if __name__ == "__main__":
    sys.exit(main())
