"""Compute saved by the median pruner, and what it costs in the best objective found.

    python -m benchmarks.pruning                 # 30 seeded trials with the median pruner, 30 without
    python -m benchmarks.pruning --quick         # 8 + 8 tinier trials
    python -m benchmarks.pruning --sampler random  # same configurations in both arms
    python -m benchmarks.pruning --pruner hyperband  # another of the study's pruners
    python -m benchmarks.pruning --checks-per-epoch 1  # the pruner decides after whole epochs only
    python -m benchmarks.pruning --train-examples 12   # longer epochs: training outweighs fixed costs
    python -m benchmarks.pruning --default-trials      # the default study's own trials (~50 min)
    python -m benchmarks.pruning --objective eval_loss:min  # the objective of the earlier sessions
    python -m benchmarks.pruning --default-trials --pruning-metric rougeL  # prune as the default space does

Both arms run the project's own study loop (``study.optimize.loop.StudyRunner``, in-memory storage)
over the default search space with short trials fixed on top of it (a few training pairs,
1 to 3 epochs, short answers; ``--default-trials``: the space as it is, 32 training pairs
and all 38 validation questions), one objective (``--objective``, default ``rougeL:max``, the
default study's first) and pruning metric ``--pruning-metric`` (default ``eval_loss``; with
``--default-trials`` the space's own, ``rougeL`` on 12 questions × 32 tokens before the last
check): the same seeded study once with
``--pruner median`` and once with ``--pruner none``. The pruned arm checks ``eval_loss`` twice
an epoch (``study.checks_per_epoch``, ``--checks-per-epoch``); a pruning metric other than
``eval_loss`` keeps the space's ``check_questions`` and ``check_max_new_tokens`` (the short
trials: all their questions at full length). Reports the total trial-seconds
of each, the share of compute saved (goal: at least 40 %), and the best objective of each
(goal: within 2 %). Beside them: whether the pruned study's best lies within the 95 %
bootstrap interval (over validation questions) of the unpruned study's best, and the paired
interval of their difference on the same questions; the pruner lost nothing measurable where
it does and the difference interval includes 0. That needs per-question scores of the
objective: ``eval_loss`` has none (it is a mean over answer tokens), so with
``--objective eval_loss:min`` only the relative gap is reported.

The two arms run at the same time, each in a process of its own with one torch thread (two
cores), so that load from other processes falls on both alike.

With the default TPE sampler the two arms see the same first 8 (random) configurations and
then diverge, since TPE learns from different histories; ``--sampler random`` draws the same
configurations in both arms, so the difference is the pruner's alone.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from benchmarks import _common as common

NAME = "pruning"
GOAL_SAVED = 0.40
GOAL_BEST_WITHIN = 0.02
STARTUP_TRIALS = 4  # study/pruners/_median.py: the median pruner's default n_startup_trials


def make_space(train: int, val: int, new_tokens: int, max_len: int) -> Any:
    """The default space with short trials fixed; LoRA, optimiser, epochs (1-3) and decoding stay searched."""
    from search_spaces import load_space

    space = load_space("default")
    space = space.with_fixed(**{
        "data.max_train_examples": train,
        "data.max_val_examples": val,
        "data.max_seq_length": max_len,
        "training.batch_size": 2,  # 1 to 2 optimiser steps an epoch
        "training.gradient_accumulation_steps": 1,
        "decoding.max_new_tokens": new_tokens,
    })
    return space


def run_arm(space: Any, pruner: str, sampler_name: str, n_trials: int, seed: int, checks: int,
            objective: str, pruning_metric: str) -> dict[str, Any]:
    """One whole study with the project's loop; returns per-trial seconds, epochs and states."""
    import optuna

    from objectives import parse_objectives
    from study.core import keys
    from study.finetune.data import load_splits
    from study.optimize.loop import StudyRunner
    from study.optimize.samplers import make_sampler

    settings = replace(space.settings, objectives=(objective,), pruner=pruner, pruning_metric=pruning_metric,
                       n_trials=n_trials, sample_answers=0, checks_per_epoch=checks, stop=None)  # every trial
    base_cfg = space.first_config()
    runner = StudyRunner(
        space=space,
        settings=settings,
        objectives=parse_objectives(settings.objectives),
        storage=optuna.storages.InMemoryStorage(),
        study_name=f"bench-{pruner}",
        sampler=make_sampler(sampler_name, seed),
        splits=load_splits(base_cfg.data),
        base_cfg=base_cfg,
        show_progress=False,
    )
    with contextlib.redirect_stdout(sys.stderr), common.timed() as t:  # the loop's trial lines are progress
        runner.run(n_trials)
    # The base model's trial (scored once per arm, the same in both) is not a fine-tune: leave it out.
    trials = [tr for tr in runner.study.get_trials(deepcopy=False) if keys.REFERENCE not in tr.user_attrs]
    seconds = [(tr.datetime_complete - tr.datetime_start).total_seconds() for tr in trials
               if tr.datetime_complete and tr.datetime_start]
    planned = [tr.user_attrs[keys.CONFIG]["training"]["epochs"] for tr in trials]
    # epochs trained: where a pruned trial stopped (1.5 = half-way through its second), else all it planned
    epochs = [tr.user_attrs.get(keys.PRUNED_AT, e) if tr.state.name == "PRUNED" else e for tr, e in zip(trials, planned)]
    states = {s: sum(tr.state.name == s for tr in trials) for s in ("COMPLETE", "PRUNED", "FAIL")}
    maximize = objective.endswith(":max")
    done = [tr for tr in trials if tr.state.name == "COMPLETE"]
    best = (max if maximize else min)(done, key=lambda tr: tr.values[0]) if done else None
    return {
        "trial_seconds": sum(seconds),
        "wall_seconds": t.wall,
        "epochs": sum(epochs),
        "planned_epochs": planned,
        "states": states,
        "best": best.values[0] if best else math.nan,
        "best_trial": best.number if best else None,
        # the best trial's per-question scores of the objective (none for eval_loss, a mean over tokens)
        "best_per_question": (best.user_attrs.get(keys.PER_QUESTION) or {}).get(objective.split(":")[0])
        if best else None,
        "pruned_at": [tr.user_attrs.get(keys.PRUNED_AT) for tr in trials if tr.state.name == "PRUNED"],
        "configs": [tr.params for tr in trials],
    }


def best_comparison(pruned: Sequence[float] | None, unpruned: Sequence[float] | None,
                    seed: int = 0) -> dict[str, Any]:
    """Is the pruned study's best (per-question scores) within the unpruned best's 95 % interval?

    ``best_within_unpruned_ci95``: the pruned best's mean lies in the bootstrap interval of
    the unpruned best's mean over questions; ``difference_ci95``: the paired interval of
    ``pruned - unpruned`` where both scored the same questions (same count), which is
    narrower, question difficulty cancelling. None where per-question scores are missing.
    """
    from objectives import mean_interval, paired_difference

    if not pruned or not unpruned:
        return {"unpruned_best_ci95": None, "best_within_unpruned_ci95": None, "difference_ci95": None,
                "difference_includes_zero": None}
    interval = mean_interval(unpruned, seed=seed)
    pruned_mean = sum(pruned) / len(pruned)
    out: dict[str, Any] = {"unpruned_best_ci95": [interval.low, interval.high],
                           "best_within_unpruned_ci95": interval.contains(pruned_mean),
                           "difference_ci95": None, "difference_includes_zero": None}
    if len(pruned) == len(unpruned):
        diff = paired_difference(pruned, unpruned, seed=seed)
        out.update(difference_ci95=[diff.low, diff.high], difference_includes_zero=diff.contains(0.0))
    return out


def run_arms_side_by_side(argv: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both arms at once, each in its own process with one torch thread.

    Run one after the other, the arms would meet different load from other processes, and
    trial-seconds would compare the machine's moods as much as the pruner; side by side,
    on two cores, whatever else runs slows both alike.
    """
    procs = {
        arm: subprocess.Popen([sys.executable, "-m", "benchmarks.pruning", *argv, "--arm", arm, "--threads", "1"],
                              stdout=subprocess.PIPE, text=True)
        for arm in ("pruned", "unpruned")
    }
    results = {}
    for arm, proc in procs.items():
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"{NAME}: the {arm} arm failed (exit {proc.returncode})")
        results[arm] = json.loads(out.strip().splitlines()[-1])
    return results["pruned"], results["unpruned"]


def _check_metric(name: str) -> None:
    from objectives import METRICS

    if name not in METRICS:
        raise SystemExit(f"{NAME}: --pruning-metric: unknown metric {name!r} (valid: {', '.join(METRICS)})")


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--trials", type=int, help="trials per arm (default 30; quick 8)")
    p.add_argument("--sampler", default="tpe", choices=["tpe", "random"], help="sampler of both arms (default tpe)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed of both arms (default 0)")
    p.add_argument("--checks-per-epoch", type=int, default=2, help="pruning checks an epoch (default 2)")
    p.add_argument("--train-examples", type=int,
                   help="training pairs, 2 a step (default 4; quick 2): more make training a larger share of a trial")
    p.add_argument("--default-trials", action="store_true",
                   help="the default space's trials as they are (32 pairs, 16 questions), nothing fixed on top")
    p.add_argument("--arm", choices=["pruned", "unpruned"], help=argparse.SUPPRESS)
    p.add_argument("--objective", default="rougeL:max",
                   help="the one objective of both arms (default rougeL:max; eval_loss:min has no per-question scores)")
    p.add_argument("--pruning-metric",
                   help="metric the pruner watches (default eval_loss; with --default-trials the space's own)")
    p.add_argument("--pruner", default="median", choices=["median", "successive_halving", "hyperband"],
                   help="pruner of the pruned arm (default median)")
    args = p.parse_args(argv)
    common.quiet()
    common.apply_threads(args.threads)
    n_trials = args.trials or (8 if args.quick else 30)
    train, val, new_tokens, max_len = (2, 2, 4, 96) if args.quick else (4, 4, 12, 128)
    train = args.train_examples or train
    if args.default_trials:
        from search_spaces import load_space

        space = load_space("default")
        train, val = space.fixed["data.max_train_examples"], space.fixed["data.max_val_examples"]
    else:
        space = make_space(train, val, new_tokens, max_len)
        # the short trials have a few questions: every check answers all of them at full length
        space = replace(space, settings=replace(space.settings, check_questions=0, check_max_new_tokens=0))
    pruning_metric = args.pruning_metric or (space.settings.pruning_metric if args.default_trials else "eval_loss")
    _check_metric(pruning_metric)

    if args.arm:  # one arm, in a process of its own started below: its figures as one JSON line
        pruner, checks = (args.pruner, args.checks_per_epoch) if args.arm == "pruned" else ("none", 1)
        print(json.dumps(run_arm(space, pruner, args.sampler, n_trials, args.seed, checks, args.objective,
                                 pruning_metric)), flush=True)
        return 0

    load_before = common.load_avg()
    common.progress(f"{NAME}: {n_trials} trials with the {args.pruner} pruner and {n_trials} without, "
                    "side by side ...")
    pruned, full = run_arms_side_by_side(argv if argv is not None else sys.argv[1:])

    saved = 1 - common.ratio(pruned["trial_seconds"], full["trial_seconds"])
    saved_epochs = 1 - common.ratio(pruned["epochs"], full["epochs"])
    sign = -1 if args.objective.endswith(":max") else 1
    best_gap = sign * (pruned["best"] - full["best"]) / abs(full["best"])  # > 0: the pruned study's best is worse
    within = best_comparison(pruned["best_per_question"], full["best_per_question"], seed=args.seed)
    same_configs = pruned["configs"] == full["configs"]
    # The most a pruner that checks k times an epoch could save in the unpruned arm: every trial after the
    # pruner's 4 start-up trials stopped at its first check (1/k epoch), unless that is its end.
    planned, k = full["planned_epochs"], args.checks_per_epoch
    ceiling = sum(e - 1 / k for e in planned[STARTUP_TRIALS:]) / sum(planned)
    figures = {
        "trials": n_trials,
        "pruner": args.pruner,
        "sampler": args.sampler,
        "seed": args.seed,
        "train_examples": train,
        "val_questions": val,
        "objective": args.objective,
        "pruning_metric": pruning_metric,
        "check_questions": space.settings.check_questions if pruning_metric != "eval_loss" else None,
        "check_max_new_tokens": space.settings.check_max_new_tokens if pruning_metric != "eval_loss" else None,
        "checks_per_epoch": args.checks_per_epoch,
        "arms": "side by side, one process and one torch thread each",
        "pruned_trial_seconds": pruned["trial_seconds"],
        "unpruned_trial_seconds": full["trial_seconds"],
        "saved": saved,
        "pruned_epochs": pruned["epochs"],
        "unpruned_epochs": full["epochs"],
        "saved_epochs": saved_epochs,
        "ceiling_saved_epochs": ceiling,
        "best_pruned": pruned["best"],
        "best_unpruned": full["best"],
        "best_gap": best_gap,
        **within,
        "goal_saved": GOAL_SAVED,
        "goal_best_within": GOAL_BEST_WITHIN,
        "goal_met": saved >= GOAL_SAVED and best_gap <= GOAL_BEST_WITHIN,
        "states_pruned_arm": pruned["states"],
        "states_unpruned_arm": full["states"],
        "pruned_at_epochs": pruned["pruned_at"],
        "same_configs_in_both_arms": same_configs,
        "wall_seconds": [pruned["wall_seconds"], full["wall_seconds"]],
        "load_avg_before": load_before,
        "load_avg_after": common.load_avg(),
    }
    rows = [
        [f"{args.pruner} pruner", pruned["trial_seconds"], pruned["epochs"], pruned["states"]["COMPLETE"],
         pruned["states"]["PRUNED"], pruned["states"]["FAIL"], pruned["best"], pruned["best_trial"]],
        ["no pruning", full["trial_seconds"], full["epochs"], full["states"]["COMPLETE"], full["states"]["PRUNED"],
         full["states"]["FAIL"], full["best"], full["best_trial"]],
    ]
    metric = args.objective.split(":")[0]
    body = common.table(["study", "trial-seconds", "epochs", "complete", "pruned", "fail", f"best {metric}",
                         "best trial"], rows)
    body += (
        f"\ncompute saved: {saved:.1%} of trial-seconds, {saved_epochs:.1%} of epochs (goal >= {GOAL_SAVED:.0%}); "
        f"at most {ceiling:.1%} of epochs could be saved (see note)"
        f"\nbest objective of the pruned study is {best_gap:+.2%} from the unpruned one, worse if > 0 (goal within "
        f"{GOAL_BEST_WITHIN:.0%})"
    )
    if within["unpruned_best_ci95"] is not None:
        low, high = within["unpruned_best_ci95"]
        body += (f"\nthe pruned best {pruned['best']:.4f} is {'within' if within['best_within_unpruned_ci95'] else 'outside'}"
                 f" the unpruned best's 95 % interval [{low:.4f}, {high:.4f}]")
        if within["difference_ci95"] is not None:
            d_low, d_high = within["difference_ci95"]
            body += (f"; paired difference pruned - unpruned on the same questions [{d_low:+.4f}, {d_high:+.4f}]"
                     f" ({'includes' if within['difference_includes_zero'] else 'excludes'} 0)")
    else:
        body += f"\nno per-question scores of {metric}: no interval for the bests"
    notes = [
        (f"trial-seconds: sum over trials of (completed - started) from the study storage, i.e. training, the "
        f"{pruning_metric} checks and the final generation and scoring; epochs: epochs trained, a pruned trial counting "
        "up to where it stopped (a compute measure that other processes on the machine do not disturb)"),
        (f"pruners as the study builds them (study.pruners, at their defaults); median: n_startup_trials=4, "
        f"n_warmup_steps=0; the pruned arm checks {pruning_metric} {k} time(s) an epoch (step j = j/{k} epochs) and a "
        "trial's last check is never a reason to stop; the unpruned arm measures it once an epoch"),
        (f"ceiling: share of the unpruned arm's epochs that the pruner could save at most (every trial after the "
        f"4 start-up trials stopped at its first check, after 1/{k} epoch); pruned trials also skip generating and "
        "scoring answers, which the trial-seconds include"),
        "configurations identical in both arms" if same_configs else
        "configurations differ between the arms after the sampler's random start-up (TPE learns from each arm's "
        "history); --sampler random keeps them identical",
    ]
    mode = "quick" if args.quick else "default-trials" if args.default_trials else "default"
    common.report(NAME, mode, f"{args.pruner} pruner vs no pruning, same seeded study",
                  body, figures, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
