"""How long the default 50-trial study takes on this machine, from a measured subset of its trials.

    python -m benchmarks.study_time                # the first 6 trials of the default study
    python -m benchmarks.study_time --trials 10
    python -m benchmarks.study_time --quick        # 2 shrunken trials: checks the script, not the machine

Runs exactly what a user runs, ``python -m study.run --space default --trials K --storage
sqlite:///<tmp>/b.db --no-progress`` (seed 0), reads the trials back from the storage and
extrapolates: start-up (imports, model and encoder loading) + 50 x the mean seconds per trial.

Why the first trials stand for the whole study: TPE's first 8 trials are drawn at random from
the search space (``n_startup_trials=8``), so a subset of them is a random sample of the
configurations; the median pruner may stop trials only once 4 trials have completed, so in a
6-trial subset at most the last 2 can be pruned, while later in the study more are. TPE also
learns to prefer configurations with low ``train_seconds`` (an objective), so later trials
tend to be shorter: the extrapolation leans high.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import _common as common

NAME = "study_time"
STUDY_TRIALS = 50
QUICK_SETTINGS = ("data.max_train_examples=4", "data.max_val_examples=4", "training.epochs=1",
                  "decoding.max_new_tokens=16")


def run_study(trials: int, storage: str, extra: list[str], threads: int | None) -> common.Timing:
    cmd = [sys.executable, "-m", "study.run", "--space", "default", "--trials", str(trials), "--storage", storage,
           "--study-name", "bench", "--no-progress", *extra]
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)  # torch's intra-op threads in the child process
    common.progress(f"{NAME}: {' '.join(cmd[1:])}")
    with common.timed() as t:
        # The study's one line per trial is progress: send it to stderr.
        subprocess.run(cmd, check=True, stdout=sys.stderr, env=env, cwd=Path(__file__).resolve().parent.parent)
    return t


def trial_rows(storage: str, name: str = "bench") -> list[dict[str, Any]]:
    import optuna

    from study.core import keys

    study = optuna.load_study(study_name=name, storage=storage)
    rows = []
    for tr in study.get_trials(deepcopy=False):
        seconds = (tr.datetime_complete - tr.datetime_start).total_seconds() if tr.datetime_complete else None
        metrics = keys.trial_metrics(tr.user_attrs)
        rows.append({
            "number": tr.number,
            "state": tr.state.name,
            "base": tr.user_attrs.get(keys.REFERENCE) == "base",
            "seconds": seconds,
            "epochs": tr.user_attrs.get(keys.CONFIG, {}).get("training", {}).get("epochs"),
            "epochs_run": (tr.user_attrs.get(keys.HISTORY) or [{}])[-1].get("epoch"),  # 1.5: half-way through the 2nd
            "train_seconds": metrics.get("train_seconds"),
            "eval_seconds": metrics.get("eval_seconds"),
        })
    return rows


def confirmation_rows(storage: str) -> list[dict[str, Any]]:
    """The confirmation stage's runs (study ``bench.confirm``), where the space asks for one."""
    import optuna

    from study.core.keys import CONFIRM_SUFFIX

    names = {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    return trial_rows(storage, "bench" + CONFIRM_SUFFIX) if "bench" + CONFIRM_SUFFIX in names else []


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--trials", type=int, help="trials of the default study to run (default 6; quick 2)")
    args = p.parse_args(argv)
    common.quiet()
    common.apply_threads(args.threads)  # so that the machine line shows the child's thread count
    k = args.trials or (2 if args.quick else 6)
    extra = [arg for setting in QUICK_SETTINGS for arg in ("--set", setting)] if args.quick else []

    load_before = common.load_avg()
    with tempfile.TemporaryDirectory(prefix="bench-study-") as tmp:
        storage = f"sqlite:///{tmp}/b.db"
        wall = run_study(k, storage, extra, args.threads)
        every = trial_rows(storage)
        confirm_rows = confirmation_rows(storage)

    rows = [r for r in every if not r["base"]]
    base_seconds = sum(r["seconds"] or 0.0 for r in every if r["base"])
    confirm_seconds = sum(r["seconds"] or 0.0 for r in confirm_rows)
    timed_rows = [r for r in rows if r["seconds"] is not None]
    trial_seconds = sum(r["seconds"] for r in timed_rows)
    mean = trial_seconds / len(timed_rows)
    start_up = wall.wall - trial_seconds - base_seconds - confirm_seconds
    per_state: dict[str, dict[str, float]] = {}
    for state in sorted({r["state"] for r in timed_rows}):
        values = [r["seconds"] for r in timed_rows if r["state"] == state]
        per_state[state] = {"trials": len(values), "mean_seconds": sum(values) / len(values)}
    complete = per_state.get("COMPLETE", {}).get("mean_seconds")
    stages = base_seconds + confirm_seconds  # once per study, whatever its number of trials
    estimate = start_up + stages + STUDY_TRIALS * mean
    figures = {
        "trials_run": len(rows),
        "settings": list(QUICK_SETTINGS) if args.quick else "search_spaces/default.yaml as is",
        "process_seconds": wall.wall,
        "start_up_seconds": start_up,
        "mean_trial_seconds": mean,
        "base_model_seconds": base_seconds,
        "confirmation_seconds": confirm_seconds,
        "confirmation_runs": len(confirm_rows),
        "per_state": per_state,
        "estimate_50_trials_hours": estimate / 3600,
        "estimate_50_trials_if_all_complete_hours": (start_up + stages + STUDY_TRIALS * complete) / 3600
        if complete else None,
        "trials": rows,
        "threads": args.threads,
        "load_avg_before": load_before,
        "load_avg_after": common.load_avg(),
    }
    table_rows = [[r["number"], r["state"], r["epochs"], r["epochs_run"], r["seconds"], r["train_seconds"],
                   r["eval_seconds"]] for r in rows]
    body = common.table(["trial", "state", "epochs", "epochs run", "seconds", "train s", "last eval s"], table_rows)
    body += (
        f"\nstart-up {start_up:.0f} s, the base model {base_seconds:.0f} s, confirmation {confirm_seconds:.0f} s "
        f"({len(confirm_rows)} runs), mean {mean:.0f} s a trial over {len(timed_rows)} trials: "
        f"50 trials = {start_up:.0f} + {stages:.0f} + 50 x {mean:.0f} s = {estimate / 3600:.2f} h"
        + (f" ({(start_up + stages + STUDY_TRIALS * complete) / 3600:.2f} h if every trial cost what a complete one did)"
           if complete else "")
    )
    notes = [
        "method: the first trials of the seeded study (TPE's random start-up phase, 8 trials) are a random sample "
        "of the space; start-up + 50 x their mean seconds. Pruning (median, after 4 complete trials) and TPE's "
        "preference for short train_seconds make later trials shorter on average, so the estimate leans high.",
        "seconds per trial: from the trial's start to its end in the study storage (training, eval_loss checks, "
        "final generation and scoring, storage writes)",
    ]
    if args.quick:
        notes.append("quick mode shrinks the trials (" + ", ".join(QUICK_SETTINGS) + "): the estimate is not the "
                     "default study's")
    common.report(NAME, "quick" if args.quick else f"default, {k} trials", "time of the default 50-trial study",
                  body, figures, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
