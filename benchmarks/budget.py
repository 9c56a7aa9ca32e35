"""Trial-seconds a stopping rule saves, and whether the configuration it chooses is the one N trials would choose.

    python -m benchmarks.budget --simulate            # 50 simulated studies of 50 trials, every rule (minutes)
    python -m benchmarks.budget --quick               # 1 seed, 5 smoke-sized trials a space: the script runs
    python -m benchmarks.budget                       # 3 seeds x 50 default trials, informed and wide space (hours)
    python -m benchmarks.budget --seeds 5 --trials 50 --space informed --wide default
    python -m benchmarks.budget --keep studies/budget --studies-only informed --threads 1 &   # the two spaces
    python -m benchmarks.budget --keep studies/budget --studies-only default --threads 1      # side by side,
    python -m benchmarks.budget --keep studies/budget                                         # then compared
    python -m benchmarks.budget --keep studies/budget --space default --wide none   # one space's rules alone
    python -m benchmarks.budget --quick --model DIR   # another model in place of the spaces' (the tests: a tiny one)

For each seed one study of N trials runs with the rule off, on the informed space (``--space``)
and on the wide one (``--wide``); each rule is then replayed over the trials in the order they
finished (a rule only ends a study early, it changes no proposal). Per rule: the share of the N
trials' trial-seconds spent until it stopped, and whether the configuration chosen at the stop
(best first objective so far) is indistinguishable from the one chosen after N: a paired 95 %
interval of their difference on the test split, which chose neither (both re-trained with their
seeds and answering it). Informed against wide: the paired test difference of the two spaces'
choices after N, and the trials the informed study needed to come within the noise of the wide
study's final best (validation, same questions).

``--simulate`` replaces the fine-tunes by a model of trial scores (:mod:`benchmarks._budget_sim`)
with known true effects: it compares the rules over many studies in minutes and also reports the
true loss of the early choice. The goal (issue 28): at most 50 % of the trial-seconds, the choice
indistinguishable in most studies.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

from benchmarks import _common as common
from benchmarks._budget_eval import Outcome, outcome, summary

NAME = "budget"
GOAL_SHARE = 0.50


def rules(quick: bool, n_trials: int) -> dict[str, Any]:
    """The rules compared: patience with K = 10 and 15 (from trial 15, and K = 15 from trial 25), patience
    counting only trials that finished with a value (K = 5 and 8 from trial 15), patience on the Pareto front
    (real studies only: the simulation has one objective), the regret bound, and a fixed half of the trials."""
    from study.core.settings import StopSettings

    if quick:
        return {"patience K=2": StopSettings(rule="patience", min_trials=3, patience=2), "fixed half": n_trials // 2}
    return {"patience K=10": StopSettings(rule="patience", min_trials=15, patience=10),
            "patience K=15": StopSettings(rule="patience", min_trials=15, patience=15),
            "patience K=15, from 25": StopSettings(rule="patience", min_trials=25, patience=15),
            "patience K=5 valued": StopSettings(rule="patience", min_trials=15, patience=5, count_pruned=False),
            "patience K=8 valued": StopSettings(rule="patience", min_trials=15, patience=8, count_pruned=False),
            "front K=10": StopSettings(rule="patience", min_trials=15, patience=10, judge="front"),
            "front K=15, from 25": StopSettings(rule="patience", min_trials=25, patience=15, judge="front"),
            "terminator": StopSettings(rule="terminator", min_trials=15),
            "fixed half": n_trials // 2}


def simulate(n_studies: int, n_trials: int, space_name: str, terminator_studies: int,
             effect_scale: float = 1.0) -> dict[str, list[Outcome]]:
    from benchmarks._budget_sim import ScoreModel, simulate_study
    from search_spaces import load_space

    space = load_space(space_name)
    out: dict[str, list[Outcome]] = {name: [] for name in rules(False, n_trials)}
    for seed in range(n_studies):
        model = ScoreModel(effect_scale=effect_scale, prune=space.settings.pruner.name != "none")
        study = simulate_study(space, n_trials, seed, model)
        trials, seconds = [t.finished for t in study], [t.seconds for t in study]
        for name, rule in rules(False, n_trials).items():
            if name == "terminator" and seed >= terminator_studies:
                continue  # a Gaussian process fit a decision: fewer studies
            if name.startswith("front"):
                continue  # a simulated trial has one objective
            out[name].append(outcome(name, rule, trials, seconds, lambda i: study[i].test,
                                     effects=[t.effect for t in study]))
        common.progress(f"{NAME}: simulated study {seed + 1}/{n_studies}: "
                        + ", ".join(f"{k} {v[-1].stopped_at}" for k, v in out.items() if v and len(v) == seed + 1))
    return out


def real(seeds: Sequence[int], n_trials: int, spaces: Sequence[str], quick: bool,
         keep: str | None = None, model: str | None = None) -> tuple[dict, list[dict]]:
    """Per rule its outcomes over seeds and spaces; per seed the informed space against the wide one."""
    from benchmarks._budget_real import run_study

    out: dict[str, list[Outcome]] = {name: [] for name in rules(quick, n_trials)}
    versus = []
    for seed in seeds:
        studies = [run_study(name, n_trials, seed, quick, keep, model) for name in spaces]
        for study in studies:
            for name, rule in rules(quick, n_trials).items():
                out[name].append(outcome(name, rule, study.trials, study.seconds, study.test_scores, front=study.front))
        if len(studies) == 2:
            versus.append(space_comparison(*studies))
    return out, versus


def space_comparison(informed: Any, wide: Any) -> dict[str, Any]:
    """Informed minus wide on the test split (choices after N), and when the informed study matched the wide best."""
    from benchmarks._budget_eval import best_index
    from objectives import paired_difference

    i, w = best_index(informed.trials, True), best_index(wide.trials, True)
    test = paired_difference(informed.test_scores(i), wide.test_scores(w))
    target = wide.trials[w].scores
    matched = None
    for n in range(1, len(informed.trials) + 1):
        best = informed.trials[best_index(informed.trials[:n], True)]
        if best.scores and target and paired_difference(best.scores, target).high >= 0:
            matched = n  # not worse than the wide study's final best by more than the noise
            break
    return {"seed": informed.seed, "test_difference": [test.estimate, test.low, test.high],
            "indistinguishable": test.contains(0.0), "informed_trials_to_match_wide_best": matched,
            "informed_seconds": sum(informed.seconds), "wide_seconds": sum(wide.seconds)}


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--simulate", action="store_true", help="simulated studies (a model of trial scores), minutes")
    p.add_argument("--studies", type=int, default=50, help="simulated studies (default 50)")
    p.add_argument("--terminator-studies", type=int, default=8,
                   help="of those, how many the terminator judges (a GP fit each decision, ~1 s; default 8)")
    p.add_argument("--effect-scale", type=float, default=1.0,
                   help="simulation: true effects times this (3: a space where the search matters more)")
    p.add_argument("--seeds", type=int, help="real studies per space (default 3; quick 1)")
    p.add_argument("--trials", type=int, help="trials of each study (default 50; quick 5)")
    p.add_argument("--space", default="informed", help="the informed space (default: informed)")
    p.add_argument("--wide", default="default",
                   help="the space it is compared with (default: default; 'none': the rules on --space alone)")
    p.add_argument("--keep", metavar="DIR",
                   help="keep each real study in DIR/<space>-<seed>.db: an interrupted run resumes, a finished study "
                        "is read again (default: in memory)")
    p.add_argument("--model", help="the model every real study fine-tunes, in place of the spaces' model "
                                   "(a local directory; the tests pass a tiny random Llama)")
    p.add_argument("--studies-only", metavar="SPACE",
                   help="with --keep: run this space's studies and stop (two processes can run the two spaces "
                        "side by side; a run without it then compares them)")
    args = p.parse_args(argv)
    if args.studies_only and not args.keep:
        p.error("--studies-only needs --keep DIR")
    if args.simulate and args.wide == "none":
        p.error("--simulate simulates the --wide space: name one")
    common.quiet()
    common.apply_threads(args.threads)
    n_trials = args.trials or (5 if args.quick else 50)
    versus: list[dict] = []
    if args.simulate:
        results = simulate(args.studies, n_trials, args.wide, args.terminator_studies, args.effect_scale)
        mode = "simulate"
    elif args.studies_only:
        from benchmarks._budget_real import run_study

        for seed in range(args.seeds or (1 if args.quick else 3)):
            run_study(args.studies_only, n_trials, seed, args.quick, args.keep, args.model)
        return 0
    else:
        seeds = range(args.seeds or (1 if args.quick else 3))
        spaces = [args.space] if args.wide == "none" else [args.space, args.wide]
        results, versus = real(list(seeds), n_trials, spaces, args.quick, args.keep, args.model)
        mode = "quick" if args.quick else "default"
    figures = {name: summary(outs) for name, outs in results.items() if outs}
    rows = [[name, f["studies"], f["share_of_trial_seconds"], _ci(f["share_ci95"]), f["stopped_at_median"],
             f"{f['indistinguishable']}/{f['studies']}", _ci(f["indistinguishable_ci95"]),
             f.get("true_loss"), _ci(f.get("true_loss_ci95"))] for name, f in figures.items()]
    body = common.table(["rule", "studies", "share of trial-s", "95 %", "stopped at (median)", "indistinguishable",
                         "95 % (Wilson)", "true loss", "95 %"], rows)
    for v in versus:
        est, low, high = v["test_difference"]
        body += (f"\nseed {v['seed']}: informed - wide on the test split {est:+.4f} [{low:+.4f}, {high:+.4f}]; the "
                 f"informed study came within the noise of the wide best after {v['informed_trials_to_match_wide_best']}"
                 f" trials")
    figures = {"rules": figures, "trials": n_trials, "space": args.space, "wide": args.wide, "versus": versus,
               "effect_scale": args.effect_scale if args.simulate else None,
               "goal_share": GOAL_SHARE}
    notes = [
        "share: trial-seconds until the rule stopped / trial-seconds of all N (mean over studies, bootstrap 95 %; "
        "a real trial's seconds are its worker's CPU seconds where the study recorded them, else wall-clock); "
        "indistinguishable: the paired 95 % interval (test split) of the choice at the stop minus the choice after "
        "N contains 0, or they are the same trial",
        "the rules judge the first objective (rougeL)"
        + ("; the simulated studies have that objective only, and a median pruner at the first check where the "
           "space has a pruner (a pruned trial has no value and costs a quarter of its seconds); true loss: the true effect of the choice after N "
           "minus that of the choice at the stop (the model's)" if args.simulate else
           "; the 'front' rules judge the Pareto front of every objective with per-question scores (rougeL, "
           "bertscore_f1); each rule's choice is the best rougeL at its stop; the real studies keep the space's "
           "objectives, sampler and pruner"),
    ]
    common.report(NAME, mode, "stopping rules: trial-seconds saved and the choice kept", body, figures, notes)
    return 0


def _ci(pair: Sequence[float] | None) -> str:
    return f"[{pair[0]:.3f}, {pair[1]:.3f}]" if pair else "-"


if __name__ == "__main__":
    sys.exit(main())
