"""Export the best trial (or ``--trial N``, or the Pareto set) as YAML that reproduces it.

    python -m study.export                                  # best trial of study 'default' -> best.yaml
    python -m study.export --study-name smoke --out smoke-best.yaml
    python -m study.export --trial 7 --no-test              # a chosen trial, skip test scoring
    python -m study.export --pareto --out-dir pareto/       # one YAML per Pareto-optimal trial

In a multi-objective study "best" is the Pareto-optimal trial that is best on ``--by``
(default: the first objective). The test split, untouched during the study, is scored here:
the trial's fine-tune is run again from its config (same seed) and its answers to the test
questions are scored. The file then goes to ``python -m study.train --config best.yaml``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from study.cli import entry_point, quiet_libraries
from study.errors import StudyError

PACKAGES = ("lora-study", "torch", "transformers", "peft", "trl", "optuna", "sacrebleu", "rouge-score", "bert-score")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m study.export", description=__doc__.split("\n\n")[0])
    p.add_argument("--study-name", default="default")
    p.add_argument("--storage", help="default: sqlite:///studies/<study-name>.db")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--trial", type=int, help="export this trial number")
    which.add_argument("--pareto", action="store_true", help="export every Pareto-optimal trial")
    p.add_argument("--by", help="objective that picks the best Pareto trial (default: the first)")
    p.add_argument("--out", default="best.yaml", help="output file (default: best.yaml)")
    p.add_argument("--out-dir", default="pareto", help="output folder with --pareto (default: pareto/)")
    p.add_argument("--no-test", action="store_true", help="do not re-run the fine-tune to score the test split")
    p.add_argument("--allow-hub", action="store_true")
    return p.parse_args(argv)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def load_study(storage_url: str, name: str) -> Any:
    import optuna

    from study.storage import existing_study, open_storage

    storage = open_storage(storage_url)
    if existing_study(storage, name) is None:
        raise StudyError(f"--study-name {name}: no such study in {storage_url}")
    return optuna.load_study(study_name=name, storage=storage)


def pick_trials(study: Any, trial: int | None, pareto: bool, by: str | None) -> list[Any]:
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if trial is not None:
        found = [t for t in study.get_trials(deepcopy=False) if t.number == trial]
        if not found:
            raise StudyError(f"--trial {trial}: the study has trials 0..{len(study.trials) - 1}")
        if found[0].state != TrialState.COMPLETE:
            raise StudyError(f"--trial {trial}: the trial is {found[0].state.name}, only COMPLETE trials can be exported")
        return found
    if not complete:
        raise StudyError(f"study '{study.study_name}' has no completed trial yet")
    front = study.best_trials
    if pareto:
        return sorted(front, key=lambda t: t.number)
    names = study.metric_names or [f"objective{i}" for i in range(len(study.directions))]
    index = names.index(by) if by in names else 0
    if by is not None and by not in names:
        raise StudyError(f"--by {by}: not an objective of this study ({', '.join(names)})")
    maximize = study.directions[index].name == "MAXIMIZE"
    return [sorted(front, key=lambda t: t.values[index], reverse=maximize)[0]]


def score_test(cfg: Any, bench: Any) -> dict[str, Any]:
    """Re-run the trial's fine-tune and score its answers to the test split (and validation again).

    The base model is scored on the same test questions first, so that the gain is visible.
    """
    from study.evaluation import evaluate_model
    from study.trial import run_trial

    test = list(bench.splits.test)
    if not test:
        raise StudyError("the data has no test split (test_fraction is 0 or test.jsonl is empty)")
    sp, max_len = cfg.data.instructions, cfg.data.max_seq_length
    scores: dict[str, Any] = {}

    def on_test(model: Any) -> Any:
        return evaluate_model(
            model, bench.base.tokenizer, bench.tokens.prompts(test, sp), bench.tokens.examples(test, sp, max_len),
            [p.answer for p in test], cfg.decoding, bench.bertscorer, seed=cfg.training.seed,
        )

    scores["base_test"] = on_test(bench.base.model).metrics

    def on_trained(model: Any) -> None:
        evaluation = on_test(model)
        scores["test"] = evaluation.metrics
        scores["test_samples"] = [
            {"question": q.question, "reference": q.answer, "answer": a} for q, a in zip(test[:5], evaluation.predictions)
        ]

    result = run_trial(cfg, bench, on_trained=on_trained)
    scores["validation_rerun"] = result.metrics
    return scores


def export_document(study: Any, frozen: Any, storage_url: str, test: dict[str, Any] | None) -> dict[str, Any]:
    from study.records import trial_config

    cfg = trial_config(frozen)
    doc: dict[str, Any] = {
        "study": {
            "name": study.study_name,
            "storage": storage_url,
            "trial": frozen.number,
            "objectives": dict(zip(study.metric_names or [], [float(v) for v in frozen.values])),
            "exported": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        },
        "config": cfg.to_dict(),
        "metrics": {"validation": frozen.user_attrs.get("metrics", {})},
        "versions": versions(),
    }
    if test:
        doc["metrics"]["test"] = test["test"]
        doc["metrics"]["base_model_test"] = test["base_test"]
        doc["metrics"]["validation_rerun"] = test["validation_rerun"]
        doc["test_samples"] = test["test_samples"]
    return doc


def header(out: Path) -> str:
    return (
        "# Reproduce this fine-tune and write the adapter and merged model:\n"
        f"#   python -m study.train --config {out} --out runs/{out.stem}\n"
    )


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_libraries(allow_hub=args.allow_hub)
    from study.records import trial_config
    from study.storage import default_storage_url
    from study.yamlio import write_yaml

    storage_url = args.storage or default_storage_url(args.study_name)
    study = load_study(storage_url, args.study_name)
    chosen = pick_trials(study, args.trial, args.pareto, args.by)
    bench = None
    if not args.no_test:
        from study.trial import Workbench

        # Model and data are fixed within a study: load them once for every exported trial.
        bench = Workbench.load(trial_config(chosen[0]), allow_hub=args.allow_hub)
    for frozen in chosen:
        test = None if bench is None else score_test(trial_config(frozen), bench)
        if test:
            stored = dict(study.user_attrs.get("test_scores") or {})
            stored.update({"base": test["base_test"], str(frozen.number): test["test"]})
            study.set_user_attr("test_scores", stored)
        out = Path(args.out_dir) / f"trial-{frozen.number}.yaml" if args.pareto else Path(args.out)
        write_yaml(out, export_document(study, frozen, storage_url, test), header=header(out))
        summary = ""
        if test:
            summary = "  test: " + ", ".join(f"{k}={test['test'][k]:.4g}" for k in (study.metric_names or []) if k in test["test"])
        print(f"trial {frozen.number} -> {out}{summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
