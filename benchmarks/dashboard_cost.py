"""What the dashboard adds to each trial: its note, its predictions artifact, and the study's figures.

    python -m benchmarks.dashboard_cost                 # a study of 50 trials, 38 validation answers each
    python -m benchmarks.dashboard_cost --quick         # 10 trials: checks the script

Builds a SQLite study of stub trials that store what real ones do (metrics, intervals, gain
over the base, 38 answers with per-question scores), then times, for the last trial, what the
study loop does when a trial ends: writing its note, uploading its predictions, and
refreshing the Pareto and intermediate-value figures (at most every ``cost / 2 %`` seconds, so
the figures' share of a study is bounded whatever a refresh costs). Prints the seconds of each
beside a default-study trial's 60-80 s (benchmarks/RESULTS.md).
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


def build_study(storage: str, n_trials: int) -> tuple:
    import optuna

    import objectives
    from study.core import keys

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
        trial.set_user_attr(keys.METRICS, metrics)
        trial.set_user_attr(keys.PER_QUESTION, pq)
        trial.set_user_attr(keys.INTERVALS, {k: i.to_dict() for k, i in objectives.interval_table(pq).items()})
        trial.set_user_attr(keys.GAIN_VS_BASE, objectives.gain_table(pq, {"rougeL": base}, ["rougeL"]))
        trial.set_user_attr(keys.ANSWERS, [f"An answer of some length to question {i}." for i in range(QUESTIONS)])
        if n < n_trials - 1:
            study.tell(trial, [metrics["rougeL"], metrics["bertscore_f1"], metrics["train_seconds"]])
            pruning.tell(twin, 1.7)
    return study, trial, questions, pq


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    args = p.parse_args(argv)
    common.quiet()
    n = 10 if args.quick else 50
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
            body = dashboard.trial_note(frozen, ["rougeL", "bertscore_f1", "train_seconds"], questions, "bench")
            dashboard.write_note(study, trial._trial_id, body)
        with common.timed() as figures:
            dashboard.save_figures(study._storage, "bench")
    share = dashboard.FIGURE_SHARE
    figures_per_trial = figures.wall  # refreshed at most once every figures.wall / share seconds
    rows = [["note", note.wall], ["predictions artifact", upload.wall], ["figures (one refresh)", figures.wall]]
    body = common.table(["per trial", "seconds"], rows)
    body += (f"\nwith {n} trials stored; a refresh waits {figures.wall / share:.0f} s before the next "
             f"(figures take at most {share:.0%} of the study's time)")
    figures_out = {"trials": n, "note_seconds": note.wall, "upload_seconds": upload.wall,
                   "figures_seconds": figures_per_trial, "figure_share_cap": share, "note_chars": len(body)}
    common.report(NAME, "quick" if args.quick else f"{n} trials", "time the dashboard adds to a trial", body,
                  figures_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
