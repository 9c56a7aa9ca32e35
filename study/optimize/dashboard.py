"""What optuna-dashboard shows of a study: notes, artifacts and the study's own figures.

- A markdown **note on every finished trial** (state and why, metrics with 95 % intervals and
  gain over the base model, the configuration, every answer beside its reference, how to
  reproduce it), a **study note** saying what the study is, and notes on the pruning study and
  its trials naming the main study and trial they stand for. Notes live in the study's system
  attributes (optuna-dashboard's format), so they can be written after a trial has finished.
- **Artifacts**: each finished trial's predictions as JSONL (question, reference, answer,
  per-question scores) in a ``FileSystemArtifactStore``; the dashboard serves them with
  ``--artifact-dir``. An upload that fails (disk full) is a warning on the trial, never a
  lost trial.
- **Figures** (``save_plotly_graph_object``): the Pareto front with the base model and
  intervals and the intermediate values of every trial, pruned ones included, refreshed as
  trials end, but not more often than their cost allows (see :class:`FigureRefresher`).
"""

from __future__ import annotations

import json
import math
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import optuna
from optuna.trial import FrozenTrial

import objectives
from study.core import keys

WIDTH = 80  # characters of a question or reference in a note's table
ARTIFACT_WARNING = "artifact_warning"  # user attribute: why the predictions could not be uploaded
FIGURE_SHARE = 0.02  # figures may take at most this share of the study's time


def default_artifact_dir(storage_url: str, study_name: str) -> Path | None:
    """``studies/<name>-artifacts`` beside a SQLite file; None for other storages (pass --artifact-dir)."""
    if not storage_url.startswith("sqlite:///"):
        return None
    return Path(storage_url.removeprefix("sqlite:///")).expanduser().parent / f"{study_name}-artifacts"


def artifact_store(directory: Path | None) -> Any:
    if directory is None:
        return None
    from optuna.artifacts import FileSystemArtifactStore

    directory.mkdir(parents=True, exist_ok=True)
    return FileSystemArtifactStore(str(directory))


def _short(text: str, width: int = WIDTH) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if not math.isfinite(value):
        return "-"
    return f"{value:.4g}"


#: Under every validation gain: those questions chose the trial, so the gain flatters it.
SELECTION_CAVEAT = (
    "Gains are on the validation questions that chose this configuration, so they are optimistic (the winner's "
    "curse); they compare with the base model answering with this trial's decoding and prompt; a gain over the base trial's "
    "default decoding that vanishes then is marked as decoding only. The unbiased comparison is "
    "`study.export` on the untouched test split."
)


def metrics_table(attrs: Mapping[str, Any], objective_names: Sequence[str]) -> list[str]:
    metrics = keys.trial_metrics(attrs)
    intervals = attrs.get(keys.INTERVALS) or {}
    gains = attrs.get(keys.GAIN_VS_BASE) or {}
    default = attrs.get(keys.GAIN_VS_BASE_DEFAULT) or {}
    against = "base, same decoding" if attrs.get(keys.GAIN_BASIS) == keys.SAME_DECODING else "base"
    lines = [f"| metric | value | 95 % interval | gain vs {against} [95 %] | p |", "|---|---|---|---|---|"]
    order = list(objective_names) + sorted(k for k in metrics if k not in objective_names)
    for name in order:
        if name not in metrics:
            continue
        i = intervals.get(name)
        interval = f"[{_num(i['low'])}, {_num(i['high'])}]" if i else ""
        g = gains.get(name)
        gain = f"{g['gain']:+.4g} [{g['gain_ci95'][0]:+.4g}, {g['gain_ci95'][1]:+.4g}]" if g else ""
        p = _num(g["p_value"]) if g and g.get("p_value") is not None else ""
        if g and objectives.decoding_only(g, default.get(name), objectives.METRICS.get(name, "max") == "max"):
            gain += " (decoding only)"
        label = f"**{name}**" if name in objective_names else name
        lines.append(f"| {label} | {_num(metrics[name])} | {interval} | {gain} | {p} |")
    return lines


def config_table(config: Mapping[str, Mapping[str, Any]], params: Mapping[str, Any]) -> list[str]:
    """The searched values first, then the fixed ones that matter most to a reader."""
    lines = ["| key | value |", "|---|---|"]
    lines += [f"| **{k}** | {_num(v)} |" for k, v in sorted(params.items())]
    shown = {"model": ("name",), "data": ("answer_style", "max_train_examples", "max_val_examples"),
             "lora": ("rank", "alpha", "target_modules"), "training": ("epochs", "learning_rate", "seed")}
    for section, names in shown.items():
        for name in names:
            key = f"{section}.{name}"
            if key not in params and name in (config.get(section) or {}):
                lines.append(f"| {key} | {_num(config[section][name])} |")
    return lines


def answers_table(questions: Sequence[Any], answers: Sequence[str], per_question: Mapping[str, Sequence[Any]],
                  metric: str) -> list[str]:
    scores = per_question.get(metric) or []
    lines = [f"| # | question | reference | answer | {metric} |", "|---|---|---|---|---|"]
    for i, (q, a) in enumerate(zip(questions, answers)):
        score = _num(scores[i]) if i < len(scores) else ""
        lines.append(f"| {i + 1} | {_short(q.question)} | {_short(q.answer)} | {_short(a, 2 * WIDTH)} | {score} |")
    return lines


def trial_note(trial: FrozenTrial, objective_names: Sequence[str], questions: Sequence[Any], study_name: str) -> str:
    """The markdown note of one finished trial."""
    attrs = trial.user_attrs
    base = attrs.get(keys.REFERENCE) == "base"
    title = f"## Trial {trial.number}: " + ("the base model, untuned" if base else trial.state.name.lower())
    why = []
    if attrs.get(keys.PRUNED_AT) is not None:
        why.append(f"Pruned at epoch {attrs[keys.PRUNED_AT]:g} by the pruner (its values: study "
                   f"`{study_name}{keys.PRUNING_SUFFIX}`).")
    if attrs.get(keys.FAIL_REASON):
        why.append(f"Reason: {_short(attrs[keys.FAIL_REASON], 300)}")
    if attrs.get(keys.RETRY_OF) is not None:
        why.append(f"Retry of trial {attrs[keys.RETRY_OF]}, whose worker died.")
    if base:
        why.append("The reference every trial's `gain_vs_base` is measured against: no adapter, no training.")
    parts = [title, *why]
    if keys.trial_metrics(attrs):
        parts += ["### Scores (validation split)", *metrics_table(attrs, objective_names)]
        if attrs.get(keys.GAIN_VS_BASE) and not base:
            parts.append(SELECTION_CAVEAT)
    if attrs.get(keys.CONFIG):
        parts += ["### Configuration", *config_table(attrs[keys.CONFIG], trial.params)]
    answers = attrs.get(keys.ANSWERS) or []
    if answers:
        scored = _on_validation(attrs.get(keys.PER_QUESTION) or {})
        metric = next((m for m in objective_names if m in scored), "rougeL")  # knowledge_gain is per probe
        parts += ["### Answers beside the references", *answers_table(questions, answers, scored, metric)]
    if not base and trial.state.name == "COMPLETE":
        parts.append(f"Reproduce: `python -m study.export --study-name {study_name} --trial {trial.number}` "
                     "then `python -m study.train --config best.yaml`.")
    adapter = attrs.get(keys.ADAPTER)
    if isinstance(adapter, dict):
        parts.append(f"**Adapter** (on the Pareto front when the trial ended): `{adapter.get('filename')}` in this "
                     "trial's artifacts; unzip it and load it with `peft.PeftModel.from_pretrained(base_model, folder)`.")
    return "\n\n".join(_join_tables(parts))


def _join_tables(parts: Sequence[str]) -> list[str]:
    """Consecutive table rows become one block (markdown tables need their rows on adjacent lines)."""
    out: list[str] = []
    for p in parts:
        if p.startswith("|") and out and out[-1].startswith("|"):
            out[-1] += "\n" + p
        else:
            out.append(p)
    return out


def study_note(study: optuna.Study, model: str, encoder: str | None) -> str:
    a = study.user_attrs
    names = ", ".join(f"{m} ({d.name.lower()})" for m, d in zip(study.metric_names or [], study.directions))
    name = study.study_name
    return "\n\n".join([
        f"## Study `{name}`",
        f"| | |\n|---|---|\n| search space | {a.get(keys.SPACE)} |\n| model | {model} |\n"
        f"| data | {a.get(keys.DATA_SOURCE)} (fingerprint `{str(a.get(keys.DATA_FINGERPRINT))[:12]}`) |\n"
        f"| train / val / test pairs | {a.get('n_train')} / {a.get('n_val')} / {a.get('n_test')} |\n"
        f"| language (metrics) | {a.get(keys.LANGUAGE) or 'en (not recorded)'} |\n"
        f"| objectives | {names} |\n| pruner | {a.get(keys.PRUNER)} on {a.get(keys.PRUNING_METRIC)}, "
        f"{a.get(keys.CHECKS_PER_EPOCH)} checks an epoch |\n| BERTScore encoder | {encoder or '-'} |\n"
        f"| base model decoding | {a.get(keys.BASE_DECODING, '-')} |",
        "**Reading the front.** Each point is a fine-tuned configuration scored on the validation split; "
        "the trial with user attribute `reference: base` is the untuned base model. Every score is a mean over "
        "a few dozen questions: each trial's note gives its 95 % interval and its gain over the base model with "
        "the interval of that gain. A gain whose interval includes 0 is not shown to be real. The best of many "
        "noisy trials flatters itself: confirm it with fresh seeds before trusting it.",
        *_stop_note(a.get(keys.STOP), (study.metric_names or ["the first objective"])[0]),
        _privacy_note(a.get(keys.DATA_SCANNED), a.get(keys.PERSONAL_DATA)),
        f"**Intermediate values** (the pruning metric at every check, pruned trials included) are in the study "
        f"`{name}{keys.PRUNING_SUFFIX}` and in this study's figure *intermediate values*.",
        "**Commands**\n\n"
        f"- report: `python -m study.report --study-name {name}`\n"
        f"- confirm the best with fresh seeds: `python -m study.confirm --study-name {name} --top 3 --seeds 3`\n"
        f"- export the best, compared with the base model on the test split: "
        f"`python -m study.export --study-name {name}`",
    ])


def _stop_note(decision: Mapping[str, Any] | None, metric: str) -> list[str]:
    """How the study decided to stop (study.optimize.stopping), once its rule has stopped it."""
    if not decision or not decision.get("stop"):
        return []
    return [f"**Stopping.** The study stopped itself after {decision['finished']} finished trials: rule "
            f"`{decision['rule']}` on the first objective (`{metric}`), best trial {decision['best']}: "
            f"{decision['reason']}. More trials: the same command with `--no-stop`."]


def _privacy_note(scanned: bool | None, allowed: Mapping[str, Any] | None) -> str:
    """What the study checked of the data and measures of the adapters' memory (:mod:`study.finetune.memorisation`)."""
    if not scanned:
        data = ("This study was not started by `study.run`, which scans the data for personal identifiers: "
                "check it with `python -m study.privacy scan`.")
    elif allowed:
        kinds = ", ".join(f"{n} {kind}" for kind, n in allowed.get("kinds", {}).items())
        data = (f"The data holds personal identifiers ({kinds}), let through by `{allowed.get('allowed_by')}`: "
                "an adapter of this study may reproduce them; share none without reading its memorisation.")
    else:
        data = "The data was scanned for personal identifiers before the first trial; none was found."
    return (f"**Patient data.** {data} Every trial stores `membership_auc` (pruned ones as they were when "
            "stopped): 0.5 means the adapter does not tell its training pairs from held-out ones, 1.0 that it "
            "does; the base model's value is the reference. With `privacy.canaries` set, `exposure` (bits) says "
            "how far made-up identifiers trained on stand out; such configurations are never exported.")


def pruning_study_note(main: str, metric: str) -> str:
    return (f"## Pruning study of `{main}`\n\nNot a study to read on its own: each trial here stands for the trial "
            f"of study `{main}` named in its user attribute `trial_number`, and holds that trial's `{metric}` at "
            f"every check, which the pruner compares. Open `{main}` for the results.")


def write_note(study: optuna.Study, trial_id: int | None, body: str) -> None:
    """Save a note on a study (``trial_id`` None) or on one of its trials, finished or not."""
    from optuna_dashboard._note import note_ver_key, save_note_with_version

    storage, study_id = study._storage, study._study_id
    version = storage.get_study_system_attrs(study_id).get(note_ver_key(trial_id), 0) + 1
    save_note_with_version(storage, study_id, trial_id, version, body)


def _on_validation(per_question: Mapping[str, Sequence[Any]]) -> dict[str, Sequence[Any]]:
    """The per-question scores that belong to the validation answers: not the probes' or the quiz's, nor counts."""
    return {m: v for m, v in per_question.items()
            if m not in objectives.OFF_VALIDATION_METRICS and not m.endswith(objectives.STATS_SUFFIX)}


def predictions_jsonl(questions: Sequence[Any], answers: Sequence[str], per_question: Mapping[str, Sequence[Any]]
                      ) -> str:
    rows = []
    for i, (q, a) in enumerate(zip(questions, answers)):
        scores = {m: v[i] for m, v in _on_validation(per_question).items() if i < len(v)}
        rows.append(json.dumps({"question": q.question, "reference": q.answer, "answer": a, "scores": scores},
                               ensure_ascii=False))
    return "\n".join(rows) + "\n"


def upload_predictions(store: Any, study: optuna.Study, trial: Any, questions: Sequence[Any],
                       answers: Sequence[str], per_question: Mapping[str, Sequence[Any]]) -> str | None:
    """Upload a running trial's predictions; returns a warning instead of raising when the store fails."""
    if store is None or not answers:
        return None
    from optuna.artifacts import upload_artifact

    try:
        with tempfile.TemporaryDirectory(prefix="lora-artifact-") as tmp:
            path = Path(tmp) / f"trial-{trial.number}-predictions.jsonl"
            path.write_text(predictions_jsonl(questions, answers, per_question), encoding="utf-8")
            frozen = study._storage.get_trial(trial._trial_id)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=frozen,
                                storage=study._storage, mimetype="application/jsonl", encoding="utf-8")
    except OSError as exc:  # a full disk, a read-only directory: the trial's scores are stored all the same
        warning = f"predictions not uploaded: {exc.strerror or exc}"
        trial.set_user_attr(ARTIFACT_WARNING, warning)
        return warning
    return None


class FigureRefresher:
    """Saves the study's figures into the dashboard as trials end, at most ``FIGURE_SHARE`` of the time.

    Building the figures reads the whole study: cheap for a few trials, slower for many. After
    each refresh the next waits ``cost / FIGURE_SHARE`` seconds (a 0.2 s refresh at most every 10 s).
    """

    def __init__(self, storage: Any, study_name: str) -> None:
        self.storage, self.study_name = storage, study_name
        self.next_at = 0.0
        self.last_seconds: float | None = None

    def maybe_refresh(self, force: bool = False) -> bool:
        if not force and time.monotonic() < self.next_at:
            return False
        start = time.perf_counter()
        save_figures(self.storage, self.study_name)
        self.last_seconds = time.perf_counter() - start
        self.next_at = time.monotonic() + self.last_seconds / FIGURE_SHARE
        return True


def save_figures(storage: Any, study_name: str) -> None:
    """The Pareto front (base model and intervals) and the intermediate values, into the dashboard."""
    from optuna_dashboard import save_plotly_graph_object

    from reports._data import study_rows
    from reports._intermediate import figure as intermediate_figure
    from reports._pareto import figure as pareto_figure

    study = optuna.load_study(study_name=study_name, storage=storage)
    names = {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    pruning = study_name + keys.PRUNING_SUFFIX
    rows = study_rows(study, optuna.load_study(study_name=pruning, storage=storage) if pruning in names else None)
    for key, block in (("pareto-front", pareto_figure(rows)), ("intermediate-values", intermediate_figure(rows))):
        if block.figure is not None:
            block.figure.update_layout(title=block.title)
            save_plotly_graph_object(study, block.figure, graph_object_id=key)
