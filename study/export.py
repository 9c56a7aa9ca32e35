"""Export the best trial (or ``--trial N``, or the Pareto set) as YAML that reproduces it.

    python -m study.export                                  # best trial of study 'default' -> best.yaml
    python -m study.export --study-name smoke --out smoke-best.yaml
    python -m study.export --trial 7 --no-test              # a chosen trial, skip test scoring
    python -m study.export --pareto --out-dir pareto/       # one YAML per Pareto-optimal trial

In a multi-objective study "best" is the Pareto-optimal trial that is best on ``--by``
(default: the first objective); after ``python -m study.confirm`` it is the confirmed
configuration with the best seed mean (:mod:`study.optimize.selection` picks), and where no
confirmed configuration's interval lies above the base model's, that is said first. The test split, untouched during the study, is
scored here: the trial's fine-tune is run again from its config (same seed), and it and the
base model answer the test questions; ``test_comparison`` holds the paired gain per
objective with its 95 % interval and p-value, printed as a table with a verdict in words.
The file then goes to ``python -m study.train --config best.yaml``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from study.cli import add_personal_data_flag, entry_point, quiet_libraries
from study.core import keys

if TYPE_CHECKING:  # imported once the flags are checked
    from optuna import Study
    from optuna.artifacts import FileSystemArtifactStore
    from optuna.trial import FrozenTrial

    from study.core.config import DecodingConfig

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
    p.add_argument("--artifact-dir", metavar="DIR",
                   help="also store the YAML as an artifact of the trial, for optuna-dashboard --artifact-dir "
                        "(default: studies/<study-name>-artifacts beside a SQLite file)")
    p.add_argument("--allow-hub", action="store_true")
    add_personal_data_flag(p)
    return p.parse_args(argv)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def confirmation_warning(study: "Study", metric: str) -> str | None:
    """A plain sentence when confirmation ran and no configuration's gain over the base is real."""
    import objectives

    maximize = _maximised(metric)
    gains = {n: g for n, t in confirmed_table(study).items()
             if metric in t and (g := objectives.Gain.from_dict(t[metric].get("gain"))) is not None}
    if not gains or any(g.beats(maximize) for g in gains.values()):
        return None
    sentence = objectives.best_verdict(metric, gains, maximize, who="confirmed configuration")
    return (f"{sentence[0].upper()}{sentence[1:]}. The file below is the best of the tuned configurations, "
            "not one shown to be better than not fine-tuning.")


def confirmed_table(study: "Study") -> dict[int, dict[str, Any]]:
    from study.optimize.confirmed import confirmed

    return confirmed(study)


JUDGED = ("judge_correct", "judge_harmful", "judge_length_off")  # compared on the test split beside the objectives


def _maximised(metric: str) -> bool:
    from objectives import METRICS

    return METRICS.get(metric, "max") == "max"


def comparison_lines(comparison: dict[str, dict[str, Any]]) -> list[str]:
    """The test comparison as a table, then one plain sentence per metric."""
    import objectives

    if not comparison:
        return ["test: no objective is scored per question, so there is no paired comparison with the base model"]
    # Fixed decimals, so that the columns line up and a gain reads against its interval digit by digit.
    lines = [f"{'test split':<14} {'base':>9} {'tuned':>9} {'gain':>9}  {'95 % interval':<20} {'p':>6}  "
             "base (default decoding)"]
    for metric, c in comparison.items():
        lo, hi = c["gain_ci95"]
        p = "-" if c["p_value"] is None else f"{c['p_value']:.3f}"
        default = "-" if c["base_default_decoding"] is None else f"{c['base_default_decoding']:.4f}"
        interval = f"[{lo:+.4f}, {hi:+.4f}]"
        lines.append(f"{metric:<14} {c['base']:>9.4f} {c['tuned']:>9.4f} {c['gain']:>+9.4f}  {interval:<20} {p:>6}  {default}")
    for metric, c in comparison.items():
        gain = objectives.Gain.from_dict(c)
        if gain is not None:
            lines.append(objectives.verdict(metric, gain, _maximised(metric), where=f"{gain.questions} test questions"))
    return lines


def export_document(study: "Study", frozen: "FrozenTrial", storage_url: str, test: dict[str, Any] | None,
                    chosen_by: str) -> dict[str, Any]:
    from study.optimize.records import trial_config

    cfg = trial_config(frozen)
    doc: dict[str, Any] = {
        "study": {
            "name": study.study_name,
            "storage": storage_url,
            "trial": frozen.number,
            "chosen_by": chosen_by,
            "objectives": dict(zip(study.metric_names or [], [float(v) for v in frozen.values])),
            "exported": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        },
        "config": cfg.to_dict(),
        "metrics": {"validation": keys.trial_metrics(frozen.user_attrs)},
        "versions": versions(),
    }
    for key in (keys.INTERVALS, keys.GAIN_VS_BASE):
        if frozen.user_attrs.get(key):
            doc["metrics"][f"validation_{key}"] = frozen.user_attrs[key]
    confirmed = confirmed_table(study).get(frozen.number)
    if confirmed:
        doc["metrics"]["validation_confirmed"] = confirmed
    if test:
        doc["metrics"]["test"] = test["test"]
        doc["metrics"]["base_model_test"] = test["base_test"]
        doc["metrics"]["base_model_test_default_decoding"] = test["base_test_default_decoding"]
        doc["metrics"]["validation_rerun"] = test["validation_rerun"]
        doc["test_comparison"] = test["test_comparison"]
        doc["test_samples"] = test["test_samples"]
    return doc


def header(out: Path) -> str:
    return (
        "# Reproduce this fine-tune and write the adapter and merged model:\n"
        f"#   python -m study.train --config {out} --out runs/{out.stem}\n"
    )


def base_decoding(study: "Study") -> "DecodingConfig":
    """The decoding the study scored its base model with (the space's default), or the defaults."""
    from study.core.config import DecodingConfig
    from study.optimize.records import trial_config
    from study.optimize.reference import completed_base

    base = completed_base(study)
    return trial_config(base).decoding if base is not None and keys.CONFIG in base.user_attrs else DecodingConfig()


def upload_export(store: "FileSystemArtifactStore", study: "Study", path: Path) -> str | None:
    """The exported YAML as an artifact of the study (a finished trial's attributes are frozen)."""
    import warnings

    import optuna
    from optuna.artifacts import upload_artifact

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=study,
                            mimetype="application/yaml", encoding="utf-8")
    except OSError as exc:
        return f"  warning: {path} not stored as an artifact ({exc.strerror or exc})"
    return None


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_libraries(allow_hub=args.allow_hub)
    from study.core.yamlio import write_yaml
    from study.finetune.data_guard import guard_export
    from study.finetune.fair_base import score_test_split
    from study.optimize.dashboard import artifact_store, default_artifact_dir
    from study.optimize.memorisation import memorisation_lines
    from study.optimize.records import trial_config
    from study.optimize.reference import completed_base
    from study.optimize.review_results import trial_lines as review_lines
    from study.optimize.selection import pick_trials
    from study.optimize.storage import default_storage_url, load_existing_study

    storage_url = args.storage or default_storage_url(args.study_name)
    study, _ = load_existing_study(storage_url, args.study_name)
    artifacts = Path(args.artifact_dir) if args.artifact_dir else default_artifact_dir(storage_url, args.study_name)
    store = artifact_store(artifacts) if artifacts is not None and (args.artifact_dir or artifacts.is_dir()) else None
    chosen, chosen_by = pick_trials(study, args.trial, args.pareto, args.by)
    guard_export([trial_config(t) for t in chosen], args.allow_personal_data, scan=not args.no_test, study=study)
    names = list(study.metric_names or [])
    warning = confirmation_warning(study, args.by or names[0]) if names and args.trial is None else None
    if warning:
        print(warning)
    print(f"chosen: {chosen_by}")
    bench = None
    if not args.no_test:
        from study.finetune.workbench import Workbench

        # Model and data are fixed within a study: load them once for every exported trial.
        bench = Workbench.load(trial_config(chosen[0]), allow_hub=args.allow_hub)
    for frozen in chosen:
        compared = list(dict.fromkeys([*names, *JUDGED]))  # the judge's scores where an endpoint judged the answers
        test = None if bench is None else score_test_split(trial_config(frozen), bench, base_decoding(study), compared)
        if test:
            stored = dict(study.user_attrs.get(keys.TEST_SCORES) or {})
            stored.update({"base": test["base_test"], str(frozen.number): test["test"]})
            study.set_user_attr(keys.TEST_SCORES, stored)
        out = Path(args.out_dir) / f"trial-{frozen.number}.yaml" if args.pareto else Path(args.out)
        write_yaml(out, export_document(study, frozen, storage_url, test, chosen_by), header=header(out))
        print(f"trial {frozen.number} -> {out}")
        print("\n".join(memorisation_lines(frozen, completed_base(study))))  # membership_auc, exposure vs the base
        if store is not None:
            warning = upload_export(store, study, out)
            print(warning or f"  also in the dashboard's artifacts of study '{study.study_name}'")
        if test:
            print("\n".join(comparison_lines(test["test_comparison"])))
        for line in review_lines(study.user_attrs.get(keys.REVIEW_RESULTS), frozen.number):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
