"""What memorisation measurement adds to a default trial: membership inference (on by default) and canaries.

    python -m benchmarks.memorisation_cost                 # one default-space trial without and one with 4 canaries
    python -m benchmarks.memorisation_cost --quick         # 8 training pairs, 8 questions, 1 epoch

Runs the same default-space configuration (rank 16, 2 epochs, 32 training pairs, all 38
validation questions) twice on one ``Workbench``: without canaries (what every trial of the
default study pays: ``membership_auc``, one teacher-forced pass over N training pairs) and
with ``privacy.canaries`` canaries (also K more training pairs and each canary's number
ranked among ``--candidates`` random ones). After the second trial the two measurements are
repeated ``--repeats`` times on its trained adapter, for their spread (membership with the
validation side taken from the evaluation, as in a trial; ``membership_pruned`` as a pruned trial
pays it, on the 12 pairs its last check answered).
Reports wall and CPU seconds (CPU seconds are steadier on a shared machine), each share of the
trial without them, and the canary trial's extra time over the plain one (goal: at most 20 %).
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from typing import Any

from benchmarks import _common as common

NAME = "memorisation_cost"
GOAL_SHARE = 0.20
PRUNED_CHECK_QUESTIONS = 12  # the default space's check_questions: a pruned trial's membership pairs


def default_trial(quick: bool) -> Any:
    """A middle configuration of the default space (its fixed settings: 32 training pairs, 38 questions)."""
    from search_spaces import load_space

    cfg = load_space("default").config({
        "lora.rank": 16, "lora.alpha": 32.0, "lora.dropout": 0.05, "lora.target_modules": "all_linear",
        "training.epochs": 2, "training.learning_rate": 3e-4, "training.batch_size": 8,
        "training.gradient_accumulation_steps": 1, "training.warmup_ratio": 0.1, "training.scheduler": "linear",
        "decoding.do_sample": False, "decoding.temperature": 1.0, "decoding.top_p": 1.0,
        "decoding.max_new_tokens": 48, "decoding.repetition_penalty": 1.1,
    })
    cfg = replace(cfg, model=replace(cfg.model, device="cpu"))
    if quick:
        cfg = replace(cfg, data=replace(cfg.data, max_train_examples=8, max_val_examples=8),
                      training=replace(cfg.training, epochs=1))
    return cfg


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--canaries", type=int, default=4)
    p.add_argument("--candidates", type=int, default=100)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    common.apply_threads(args.threads)
    common.quiet()
    from objectives import stats_key
    from study.finetune.canaries import exposures
    from study.finetune.memorisation import membership
    from study.finetune.trial import run_trial
    from study.finetune.workbench import Workbench

    plain = default_trial(args.quick)
    with_canaries = replace(plain, privacy=replace(plain.privacy, canaries=args.canaries,
                                                   canary_candidates=args.candidates))
    pruned = replace(with_canaries, privacy=replace(with_canaries.privacy, membership_pairs=PRUNED_CHECK_QUESTIONS))
    bench = Workbench.load(plain, bertscore=True)
    common.progress("trial without canaries")
    with common.timed() as t_plain:
        first = run_trial(plain, bench)
    repeats: dict[str, list[common.Timing]] = {"membership": [], "membership_pruned": [], "exposure": []}

    held_out = first.per_question[stats_key("eval_loss")]  # what a trial passes: the validation side costs nothing

    def measure(model: Any) -> None:
        for _ in range(args.repeats):
            with common.timed() as t:
                membership(model, bench, with_canaries, held_out)
            repeats["membership"].append(t)
            with common.timed() as t:  # as a pruned trial pays it: the pairs its last check answered
                membership(model, bench, pruned, held_out[:PRUNED_CHECK_QUESTIONS])
            repeats["membership_pruned"].append(t)
            with common.timed() as t:
                exposures(model, bench.base.tokenizer, with_canaries)
            repeats["exposure"].append(t)

    common.progress(f"trial with {args.canaries} canaries (and {args.repeats} repeats of the measurements)")
    with common.timed() as t_canary:
        second = run_trial(with_canaries, bench, on_trained=measure)
    measured = sum(t.wall for ts in repeats.values() for t in ts)
    measured_cpu = sum(t.cpu for ts in repeats.values() for t in ts)
    base_wall = t_plain.wall - first.metrics["memorisation_seconds"]  # the trial as it was before this measure
    canary_wall, canary_cpu = t_canary.wall - measured, t_canary.cpu - measured_cpu
    rows, figures = [], {}
    for name, timings in repeats.items():
        walls, cpus = [t.wall for t in timings], [t.cpu for t in timings]
        share = statistics.mean(walls) / base_wall
        rows.append([name, statistics.mean(walls), statistics.stdev(walls) if len(walls) > 1 else 0.0,
                     statistics.mean(cpus), share])
        figures[f"{name}_seconds"] = statistics.mean(walls)
        figures[f"{name}_seconds_sd"] = statistics.stdev(walls) if len(walls) > 1 else 0.0
        figures[f"{name}_share_of_trial"] = share
    extra_wall = canary_wall / t_plain.wall - 1
    extra_cpu = canary_cpu / t_plain.cpu - 1
    rows.append(["trial without canaries", t_plain.wall, None, t_plain.cpu, None])
    rows.append([f"trial with {args.canaries} canaries", canary_wall, None, canary_cpu, extra_wall])
    figures.update(trial_wall=t_plain.wall, trial_cpu=t_plain.cpu, canary_trial_wall=canary_wall,
                   canary_trial_cpu=canary_cpu, canary_extra_wall=extra_wall, canary_extra_cpu=extra_cpu,
                   membership_pairs=len(first.per_question.get("membership_auc_stats", [])),
                   in_trial_memorisation_seconds=first.metrics.get("memorisation_seconds"),
                   in_canary_trial_memorisation_seconds=second.metrics.get("memorisation_seconds"),
                   membership_auc=first.metrics.get("membership_auc"), exposure=second.metrics.get("exposure"),
                   goal_met=max(extra_wall, extra_cpu) <= GOAL_SHARE)
    body = common.table(["part", "wall s", "wall SD", "CPU s", "share of a trial"], rows)
    common.report(NAME, "quick" if args.quick else "default", "memorisation measurement against a default trial",
                  body, figures, notes=[f"the trial with canaries, less the repeated measurements; its extra time "
                                        f"over the plain trial: wall {extra_wall:+.1%}, CPU {extra_cpu:+.1%} "
                                        f"(goal at most {GOAL_SHARE:.0%})"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
