"""What the dashboard adds to each trial: its note, its predictions artifact, and the study's figures.

    python -m benchmarks.dashboard_cost                 # a study of 50 trials, 38 validation answers each
    python -m benchmarks.dashboard_cost --trials 200    # a bigger study: what grows with its size
    python -m benchmarks.dashboard_cost --quick         # 10 trials: checks the script

Builds a SQLite study of stub trials that store what real ones do (metrics, intervals, gain
over the base, 38 answers with per-question scores, and each its note, as a study's trials
have them), then times, for the last trial, what the study loop does when a trial ends: writing its note, uploading its predictions, and
refreshing the Pareto and intermediate-value figures (at most every ``cost / 2 %`` seconds, so
the figures' share of a study is bounded whatever a refresh costs). Importing optuna-dashboard
(it loads ``optuna.importance`` and with it scikit-learn) is timed apart: a study process pays
it once, writing the study's note before its first trial. The figures are timed twice, the
first refresh paying the plotting imports. Compare with a default-study trial's 60-80 s
(benchmarks/RESULTS.md).
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

from benchmarks import _common as common

NAME = "dashboard_cost"
QUESTIONS = 38
OBJECTIVES = ["rougeL", "bertscore_f1", "train_seconds"]


def build_study(storage: str, n_trials: int) -> tuple:
    import optuna

    import objectives
    from study.core import keys
    from study.optimize import dashboard
    from study.optimize.records import record_metrics

    rng = random.Random(0)
    study = optuna.create_study(study_name="bench", storage=storage, directions=["maximize", "maximize", "minimize"])
    study.set_metric_names(["rougeL", "bertscore_f1", "train_seconds"])
    pruning = optuna.create_study(study_name="bench.pruning", storage=storage, direction="minimize")
    questions = [SimpleNamespace(question=f"Question {i} about the transplanted heart and its care?",
                                 answer=f"A reference answer of about twenty words for question {i}, " * 2)
                 for i in range(QUESTIONS)]
    base = [rng.random() * 0.3 for _ in range(QUESTIONS)]
    for n in range(n_trials):
        trial = study.ask()
        trial.suggest_float("training.learning_rate", 1e-5, 1e-3, log=True)
        twin = pruning.ask()
        twin.set_user_attr(keys.MAIN_TRIAL, trial.number)
        trial.set_user_attr(keys.PRUNING_TRIAL, twin.number)
        for step in (1, 2, 3):
            twin.report(2.0 - 0.1 * step + rng.random() * 0.1, step)
        pq = {"rougeL": [b + rng.gauss(0.02, 0.05) for b in base], "bertscore_f1": [0.5 + rng.random() * 0.1
                                                                                    for _ in base]}
        metrics = {k: sum(v) / len(v) for k, v in pq.items()} | {"train_seconds": 30 + rng.random() * 60}
        record_metrics(trial, metrics)
        trial.set_user_attr(keys.PER_QUESTION, pq)
        trial.set_user_attr(keys.INTERVALS, {k: i.to_dict() for k, i in objectives.interval_table(pq).items()})
        trial.set_user_attr(keys.GAIN_VS_BASE, objectives.gain_table(pq, {"rougeL": base}, ["rougeL"]))
        trial.set_user_attr(keys.ANSWERS, [f"An answer of some length to question {i}." for i in range(QUESTIONS)])
        if n < n_trials - 1:
            study.tell(trial, [metrics["rougeL"], metrics["bertscore_f1"], metrics["train_seconds"]])
            pruning.tell(twin, 1.7)
            frozen = study._storage.get_trial(trial._trial_id)
            dashboard.write_note(study, trial._trial_id, dashboard.trial_note(frozen, OBJECTIVES, questions, "bench"))
    return study, trial, questions, pq


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--trials", type=int, default=50, help="trials in the study (default: 50; --quick: 10)")
    args = p.parse_args(argv)
    if args.trials < 2:
        p.error(f"--trials must be >= 2, got {args.trials}")
    common.quiet()
    n = 10 if args.quick else args.trials
    import optuna  # noqa: F401  (a study process has it already)

    with common.timed() as imports:
        import optuna_dashboard  # noqa: F401  (what write_note and save_figures import, once a process)
    from study.core import keys
    from study.optimize import dashboard

    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        storage = f"sqlite:///{tmp}/b.db"
        study, trial, questions, pq = build_study(storage, n)
        store = dashboard.artifact_store(Path(tmp) / "artifacts")
        with common.timed() as upload:
            dashboard.upload_predictions(store, study, trial, questions, trial.user_attrs[keys.ANSWERS], pq)
        study.tell(trial, [0.2, 0.5, 40.0])
        frozen = study._storage.get_trial(trial._trial_id)
        with common.timed() as note:
            body = dashboard.trial_note(frozen, OBJECTIVES, questions, "bench")
            dashboard.write_note(study, trial._trial_id, body)
        figures = []
        for _ in range(2):  # the first pays the plotting imports, once a process
            with common.timed() as refresh:
                dashboard.save_figures(study._storage, "bench")
            figures.append(refresh.wall)
    share = dashboard.FIGURE_SHARE
    rows = [["note", note.wall, ""], ["predictions artifact", upload.wall, ""],
            ["figures (one refresh)", figures[1], figures[0]], ["import optuna-dashboard", "", imports.wall]]
    table = common.table(["per trial", "seconds", "once a process"], rows)
    table += (f"\nwith {n} trials and their notes stored; a note of {len(body)} characters; a refresh waits "
              f"{figures[1] / share:.0f} s before the next (figures take at most {share:.0%} of the study's time)")
    figures_out = {"trials": n, "note_seconds": note.wall, "import_seconds": imports.wall,
                   "upload_seconds": upload.wall, "figures_seconds": figures[1], "figures_first_seconds": figures[0],
                   "figure_share_cap": share, "note_chars": len(body)}
    common.report(NAME, "quick" if args.quick else f"{n} trials", "time the dashboard adds to a trial", table,
                  figures_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
