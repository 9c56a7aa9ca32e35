"""The report's memorisation section: each trial's membership AUC and exposure, how settings move them."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import IntDistribution

from reports import study_data
from reports._analyses import analysis_tables
from reports._privacy import figure

optuna.logging.set_verbosity(optuna.logging.WARNING)


def interval(x: float, half: float) -> dict:
    return {"estimate": x, "low": x - half, "high": x + half, "n": 32}


def add(study, number_of_epochs, rank, exposure, auc, rouge, base=False):
    attrs = {
        "config": {"training": {"epochs": number_of_epochs, "learning_rate": 2e-4}, "lora": {"rank": rank}},
        "metrics": {"rougeL": rouge, "membership_auc": auc, "exposure": exposure},
        "intervals": {"membership_auc": interval(auc, 0.1), "exposure": interval(exposure, 2.0)},
    }
    if base:
        attrs["reference"] = "base"
    study.add_trial(optuna.trial.create_trial(
        values=[rouge], params={} if base else {"training.epochs": number_of_epochs},
        distributions={} if base else {"training.epochs": IntDistribution(1, 8)}, user_attrs=attrs))


@pytest.fixture()
def privacy_study():
    study = optuna.create_study(directions=["maximize"])
    add(study, 0, 16, 1.4, 0.50, 0.20, base=True)
    for epochs, rank, exposure, auc, rouge in [(1, 8, 2.0, 0.52, 0.25), (2, 16, 5.0, 0.60, 0.28), (4, 8, 9.0, 0.70, 0.30),
                                               (6, 16, 14.0, 0.85, 0.29), (8, 8, 20.0, 0.95, 0.27)]:
        add(study, epochs, rank, exposure, auc, rouge)
    return study


def test_memorisation_rises_with_epochs_and_the_base_is_the_reference(privacy_study):
    p = study_data(privacy_study).analyses.privacy
    assert p.metrics == ("exposure", "membership_auc") and len(p.trials) == 5
    assert p.base_values == {"exposure": 1.4, "membership_auc": 0.5}
    by_epochs = {(e.setting, e.metric): e for e in p.effects}
    exposure = by_epochs[("training.epochs", "exposure")]
    assert exposure.rho == pytest.approx(1.0) and exposure.trials == 5 and exposure.low <= 1.0 <= exposure.high + 1e-9
    assert ("lora.rank", "exposure") in by_epochs and ("training.learning_rate", "exposure") not in by_epochs  # fixed


def test_figure_and_table(privacy_study):
    data = study_data(privacy_study)
    block = figure(data.analyses.privacy)
    assert block.figure is not None and len(block.figure.data) == 2
    assert list(block.figure.data[0].y) == [2.0, 5.0, 9.0, 14.0, 20.0]
    html = analysis_tables(data.analyses)["privacy"]
    assert "Spearman rho" in html and "base model" in html and html.index("<td>5</td>") < html.index("<td>1</td>")


def test_a_study_without_memorisation_metrics_is_a_note():
    p = study_data(optuna.create_study(directions=["maximize"])).analyses.privacy
    assert p.trials == () and "membership_auc" in p.note
    assert figure(p).figure is None
