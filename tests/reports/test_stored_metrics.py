"""A trial's metrics are read from its numeric attributes, and studies stored the old way (one
``metrics`` mapping) still report and export.

``liver_single`` is stored the old way; ``scalar`` is the same study stored the new way with the
mapping left out, so a reader that still looked for the mapping would find no metrics there.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import yaml

from reports._data import study_data
from study import export, report
from study.core import keys
from study.optimize.dashboard import trial_note

OLD = "liver_single"


def _without_mapping(attrs: dict) -> dict:
    metrics = attrs.get(keys.METRICS)
    out = {k: v for k, v in attrs.items() if k != keys.METRICS}
    if metrics is not None:
        out.update(metrics)
        out[keys.METRIC_NAMES] = list(metrics)
    return out


def _copy_the_new_way(url: str, name: str) -> optuna.Study:
    old = optuna.load_study(study_name=OLD, storage=url)
    new = optuna.create_study(study_name=name, storage=url, directions=old.directions)
    new.set_metric_names(old.metric_names)
    for key, value in old.user_attrs.items():
        new.set_user_attr(key, value)
    for t in old.get_trials():
        new.add_trial(optuna.trial.create_trial(
            state=t.state, values=t.values, params=t.params, distributions=t.distributions,
            user_attrs=_without_mapping(t.user_attrs), intermediate_values=t.intermediate_values))
    pruning = optuna.create_study(study_name=name + keys.PRUNING_SUFFIX, storage=url, direction="minimize")
    for t in optuna.load_study(study_name=OLD + keys.PRUNING_SUFFIX, storage=url).get_trials():
        pruning.add_trial(t)
    return new


@pytest.fixture(scope="module")
def scalar(liver_url: str) -> optuna.Study:
    return _copy_the_new_way(liver_url, "liver_scalar")


def test_trial_metrics_reads_the_numeric_attributes_named_in_metric_names() -> None:
    attrs = {"metric_names": ["rougeL", "bleu"], "rougeL": 0.3, "bleu": None, "metrics": {"rougeL": 0.9}}
    assert keys.trial_metrics(attrs) == {"rougeL": 0.3, "bleu": None}


def test_trial_metrics_falls_back_to_the_mapping_of_older_studies() -> None:
    assert keys.trial_metrics({"metrics": {"rougeL": 0.9}, "rougeL": 0.1}) == {"rougeL": 0.9}
    assert keys.trial_metrics({"config": {}}) == {}


def test_the_copy_has_no_mapping_but_the_report_rows_hold_the_same_metrics(liver_url: str,
                                                                           scalar: optuna.Study) -> None:
    assert not any(keys.METRICS in t.user_attrs for t in scalar.get_trials())
    old = study_data(optuna.load_study(study_name=OLD, storage=liver_url)).trials
    new = study_data(scalar).trials
    assert [r.metrics for r in new] == [r.metrics for r in old]
    assert new[1].metrics["rougeL"] > 0 and set(new[1].metrics) >= {"rougeL", "length_error", "train_seconds"}


@pytest.mark.parametrize("name", [OLD, "liver_scalar"])
def test_a_study_stored_either_way_reports(name: str, liver_url: str, scalar: optuna.Study, tmp_path: Path) -> None:
    out = tmp_path / f"{name}.html"
    assert report.main(["--study-name", name, "--storage", liver_url, "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    best = page[page.index('id="best"'):]
    assert "train_seconds" in best[:best.index("<h2")]  # a metric that is no objective: read from the trials


def test_a_study_stored_either_way_exports_the_same_validation_metrics(liver_url: str, scalar: optuna.Study,
                                                                       tmp_path: Path) -> None:
    docs = {}
    for name in (OLD, "liver_scalar"):
        out = tmp_path / f"{name}.yaml"
        assert export.main(["--study-name", name, "--storage", liver_url, "--trial", "3", "--no-test",
                            "--out", str(out), "--artifact-dir", str(tmp_path / name)]) == 0
        docs[name] = yaml.safe_load(out.read_text(encoding="utf-8"))["metrics"]["validation"]
    assert docs["liver_scalar"] == docs[OLD]
    assert docs[OLD]["rougeL"] == pytest.approx(scalar.trials[3].user_attrs["rougeL"])


def test_the_dashboard_note_shows_the_scores_of_a_study_stored_the_new_way(scalar: optuna.Study) -> None:
    note = trial_note(scalar.trials[3], ["rougeL", "length_error"], [], scalar.study_name)
    assert "### Scores (validation split)" in note and "| **length_error** |" in note
