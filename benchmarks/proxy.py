"""Which pruning signal predicts the default study's objectives: eval_loss, or a cheap answer metric?

    python -m benchmarks.proxy --threads 2            # up to 30 seeded random trials of the default space, 38 min
    python -m benchmarks.proxy --trials 12 --minutes 0  # exactly 12 trials, however long they take
    python -m benchmarks.proxy --quick                # 5 tiny trials: checks that the script runs
    python -m benchmarks.proxy --records r.json       # analyse the per-check records of an earlier run again

Trials of the default space (``search_spaces/default.yaml``, drawn by Optuna's seeded random
sampler, so they sample the space evenly; no pruning) run through the project's own trial
recipe (``study.finetune.trial.TrialRecipe``) with two checks an epoch, as the default study
checks. At every check before the last it records both candidate pruning signals:

- ``eval_loss``: the answer loss on every validation question (teacher forcing, no
  generation), what the default study's median pruner watches today;
- ``check_rougeL`` and ``check_bertscore_f1``: answers to the first ``--check-questions``
  validation questions, at most ``--check-max-new-tokens`` long, batched and scored
  (``study.check_questions`` and ``study.check_max_new_tokens``).

The last check is the trial's own full evaluation, whose ROUGE-L and BERTScore F1 on every
validation question are the objectives. Over complete trials it reports, for each check
(check 1 = half an epoch, where the median pruner decides) and each signal, Spearman's rho
with each final objective and its percentile-bootstrap 95 % interval over trials
(``objectives.statistic_interval``), and the seconds each signal costs per check. The
expected sign is − for eval_loss (lower is better) and + for the answer metrics.

Trials run until ``--trials`` are done or ``--minutes`` have passed (the trial under way
finishes); the records are written to ``--out`` after every trial.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks import _common as common

NAME = "proxy"
SIGNALS = ("eval_loss", "check_rougeL", "check_bertscore_f1")
OBJECTIVES = ("rougeL", "bertscore_f1")
EXPECTED = {"eval_loss": -1, "check_rougeL": 1, "check_bertscore_f1": 1}  # sign of a signal that predicts well
CHECKS_PER_EPOCH = 2  # as search_spaces/default.yaml
MIN_TRIALS = 5  # fewer trials at a check give no rho
FINAL = "final"
QUICK_FIXED = {"data.max_train_examples": 4, "data.max_val_examples": 6, "training.epochs": 1,
               "decoding.max_new_tokens": 8, "training.batch_size": 2,
               "training.gradient_accumulation_steps": 1}  # 2 steps an epoch: the half-epoch check happens


class Rho(NamedTuple):
    check: str  # "1", "2", ... (check j = j / 2 epochs) or "final"
    signal: str
    objective: str
    n: int
    rho: float | None  # None: fewer than MIN_TRIALS trials, or a constant side
    low: float | None
    high: float | None


def check_rows(records: Sequence[Mapping[str, Any]]) -> dict[str, list[tuple[dict[str, float], dict[str, float]]]]:
    """Per check label, the (signals, final objectives) pairs of the complete trials that reached it before the end.

    A record is ``{"checks": [{"check": j, "final": bool, <signal>: value, ...}], "objectives": {...}}``;
    the final check of every trial goes under ``"final"`` whatever its number.
    """
    out: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {}
    for r in records:
        if r.get("state") != "COMPLETE":
            continue
        for c in r["checks"]:
            label = FINAL if c["final"] else str(c["check"])
            out.setdefault(label, []).append((c, r["objectives"]))
    return out


def correlations(records: Sequence[Mapping[str, Any]], signals: Sequence[str] = SIGNALS,
                 objectives: Sequence[str] = OBJECTIVES, seed: int = 0) -> list[Rho]:
    """Spearman's rho of each signal at each check with each final objective, with a bootstrap 95 % interval.

    Trials are resampled with replacement (``objectives.statistic_interval`` over trial
    indices); a resample of tied values has no rank correlation, and then only the estimate is given.
    """
    import numpy as np

    from objectives import spearman, statistic_interval

    rows = []
    by_check = check_rows(records)
    labels = sorted((k for k in by_check if k != FINAL), key=int) + ([FINAL] if FINAL in by_check else [])
    for label in labels:
        pairs = by_check[label]
        for signal in signals:
            for objective in objectives:
                xy = [(c[signal], o[objective]) for c, o in pairs if c.get(signal) is not None]
                x, y = np.array([a for a, _ in xy], float), np.array([b for _, b in xy], float)
                rho = spearman(x, y) if len(xy) >= MIN_TRIALS else math.nan
                low = high = None
                if math.isfinite(rho):
                    try:
                        ci = statistic_interval(len(xy), lambda idx, x=x, y=y: spearman(x[idx], y[idx]), seed=seed)
                        low, high = ci.low, ci.high
                    except ValueError:  # some resample was constant on one side
                        pass
                rows.append(Rho(label, signal, objective, len(xy), rho if math.isfinite(rho) else None, low, high))
    return rows


def check_costs(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Mean seconds per check before the last: eval_loss on every question, and the cheap answer metric."""
    checks = [c for r in records for c in r["checks"] if not c["final"]]
    mean = (lambda key: sum(c[key] for c in checks) / len(checks)) if checks else (lambda key: math.nan)
    finals = [c["eval_seconds"] for r in records for c in r["checks"] if c["final"]]
    return {"eval_loss_seconds": mean("loss_seconds"), "answer_metric_seconds": mean("answer_seconds"),
            "full_evaluation_seconds": sum(finals) / len(finals) if finals else math.nan, "checks": len(checks)}


class _Listening:
    """A monitor that never stops a trial: the recipe checks twice an epoch only when someone listens."""

    def after_check(self, check: int, evaluation: Any) -> bool:
        return False

    def after_chunk(self, first_question: int, evaluation: Any) -> bool:
        return False


def _recording_recipe(cfg: Any, bench: Any, questions: int, new_tokens: int) -> Any:
    """A :class:`TrialRecipe` whose checks before the last measure both signals, each timed."""
    from study.finetune.evaluation import Evaluation, answer_loss
    from study.finetune.trial import TrialRecipe

    class Recording(TrialRecipe):
        def _evaluate_check(self, model: Any) -> Evaluation:
            t0 = time.perf_counter()
            loss = answer_loss(model, self.val.examples, self.bench.base.tokenizer.pad_token_id)
            t1 = time.perf_counter()
            answers = super()._evaluate_check(model)  # first check_questions questions, short answers
            t2 = time.perf_counter()
            metrics = {"eval_loss": loss, "loss_seconds": t1 - t0, "answer_seconds": t2 - t1,
                       "check_rougeL": answers.metrics["rougeL"],
                       "check_bertscore_f1": answers.metrics.get("bertscore_f1", math.nan)}
            return Evaluation(metrics, answers.predictions)

    return Recording(cfg, bench, _Listening(), full_eval_every_check=True, checks_per_epoch=CHECKS_PER_EPOCH,
                     check_questions=questions, check_max_new_tokens=new_tokens)


def run_trials(space: Any, n_trials: int, minutes: float, seed: int, questions: int, new_tokens: int,
               out: Path) -> list[dict[str, Any]]:
    """Seeded random trials of ``space``, each a record of its checks and final objectives."""
    import optuna

    from study.core.errors import DivergedError
    from study.finetune.memory import freeze_loaded
    from study.finetune.workbench import Workbench

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    bench = None
    records: list[dict[str, Any]] = []
    start = time.perf_counter()
    for number in range(n_trials):
        if minutes and time.perf_counter() - start > minutes * 60:
            common.progress(f"{NAME}: {minutes:g} minutes passed after {number} trials; stopping")
            break
        trial = study.ask()
        cfg = space.suggest(trial)
        if bench is None:
            bench = Workbench.load(cfg)
            freeze_loaded()  # as a study's process does
        t0 = time.perf_counter()
        try:
            result = _recording_recipe(cfg, bench, questions, new_tokens).run()
        except DivergedError as e:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            records.append({"number": number, "state": "FAIL", "why": str(e), "params": trial.params, "checks": []})
            continue
        seconds = time.perf_counter() - t0
        study.tell(trial, result.metrics[OBJECTIVES[0]])  # the sampler is random: the value only closes the trial
        checks = []
        for j, h in enumerate(result.history, start=1):
            final = j == len(result.history)
            c = {"check": j, "epoch": h["epoch"], "final": final, **{k: v for k, v in h.items() if k != "epoch"}}
            if final:  # the subset signal at the end: the final answers to the first questions (full length)
                n = questions or len(result.predictions)
                c["check_rougeL"] = _mean(result.per_question["rougeL"][:n])
                c["check_bertscore_f1"] = _mean(result.per_question.get("bertscore_f1", [])[:n])
            checks.append(c)
        records.append({"number": number, "state": "COMPLETE", "seconds": seconds, "params": trial.params,
                        "epochs": cfg.training.epochs, "objectives": {o: result.metrics[o] for o in OBJECTIVES},
                        "checks": checks})
        common.progress(f"{NAME}: trial {number} ({cfg.training.epochs} epochs) {seconds:.0f} s, "
                        + ", ".join(f"{o} {result.metrics[o]:.3f}" for o in OBJECTIVES))
        out.write_text(json.dumps(records, indent=1))
    return records


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _interval(r: Rho) -> str:
    if r.rho is None:
        return "-"
    return f"{r.rho:+.2f}" + (f" [{r.low:+.2f}, {r.high:+.2f}]" if r.low is not None else "")


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--trials", type=int, help="trials at most (default 30; quick 5)")
    p.add_argument("--minutes", type=float, help="start no trial after this many minutes (default 38; 0: no limit)")
    p.add_argument("--seed", type=int, default=0, help="random sampler seed (default 0)")
    p.add_argument("--check-questions", type=int, default=12, help="questions the answer metric answers (default 12)")
    p.add_argument("--check-max-new-tokens", type=int, default=32, help="their answers' length cap (default 32)")
    p.add_argument("--out", type=Path, default=Path("proxy-records.json"), help="where the per-check records go")
    p.add_argument("--records", type=Path, help="analyse these records of an earlier run instead of running trials")
    args = p.parse_args(argv)
    common.quiet()
    common.apply_threads(args.threads)
    load_before = common.load_avg()
    if args.records:
        records = json.loads(args.records.read_text())
        mode = f"records {args.records.name}"
    else:
        from search_spaces import load_space

        space = load_space("default")
        if args.quick:
            space = space.with_fixed(**QUICK_FIXED)
        n_trials = args.trials or (5 if args.quick else 30)
        minutes = args.minutes if args.minutes is not None else (0 if args.quick else 38)
        common.progress(f"{NAME}: up to {n_trials} trials of the default space"
                        + (f" within {minutes:g} minutes" if minutes else "") + f", records in {args.out} ...")
        records = run_trials(space, n_trials, minutes, args.seed, args.check_questions, args.check_max_new_tokens,
                             args.out)
        mode = "quick" if args.quick else "default"

    rhos = correlations(records, seed=args.seed)
    costs = check_costs(records)
    complete = [r for r in records if r["state"] == "COMPLETE"]
    by = {(r.check, r.signal, r.objective): r for r in rhos}
    labels = list(dict.fromkeys(r.check for r in rhos))
    table_rows = []
    for label in labels:
        for signal in SIGNALS:
            cells = [by[(label, signal, o)] for o in OBJECTIVES]
            when = "end" if label == FINAL else f"{int(label) / CHECKS_PER_EPOCH:g} ep"
            table_rows.append([label, when, signal, "+" if EXPECTED[signal] > 0 else "−", cells[0].n,
                               *(_interval(c) for c in cells)])
    body = common.table(["check", "at", "signal", "expect", "trials", *(f"rho with final {o} [95 %]"
                                                                         for o in OBJECTIVES)], table_rows)
    body += (f"\ncost per check before the last: eval_loss (all questions) {costs['eval_loss_seconds']:.2f} s, "
             f"answer metric ({args.check_questions} questions x {args.check_max_new_tokens} tokens, ROUGE-L and "
             f"BERTScore) {costs['answer_metric_seconds']:.2f} s, over {costs['checks']} checks; the final full "
             f"evaluation {costs['full_evaluation_seconds']:.2f} s")
    figures = {
        "trials": len(records),
        "complete": len(complete),
        "sampler": "random",
        "seed": args.seed,
        "checks_per_epoch": CHECKS_PER_EPOCH,
        "check_questions": args.check_questions,
        "check_max_new_tokens": args.check_max_new_tokens,
        "costs": costs,
        "rho": [r._asdict() for r in rhos],
        "mean_trial_seconds": _mean([r["seconds"] for r in complete]),
        "load_avg_before": load_before,
        "load_avg_after": common.load_avg(),
    }
    notes = [
        ("rho: Spearman over complete trials of the signal at that check with the trial's final objective on every "
        "validation question; interval: percentile bootstrap over trials (1000 resamples); check j is after j/2 "
        "epochs, check 1 is where the median pruner decides; 'final' is the trial's last check (its answer-metric "
        "signal is then the final answers to the first questions, at full length)"),
        ("expected sign: − for eval_loss (lower is better), + for the answer metrics; an interval that includes 0 "
        "means the trials do not show that the signal ranks them as the objective does"),
        ("costs: wall seconds per check of this process, eval_loss on every validation question (no generation) and "
        "the answer metric on the subset (generation, ROUGE-L, BERTScore); a study pays one of them per check"),
    ]
    common.report(NAME, mode, "pruning signals vs the final objectives", body, figures, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
