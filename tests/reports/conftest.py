"""Small studies built by hand, shaped like the ones :mod:`study.optimize.loop` writes.

``heart`` (fixtures ``study``, ``study_2d``, ``storage_url``): trials 0-3 are COMPLETE (trial 0
dominates trial 1, so the Pareto front is 0, 2 and 3), trial 4 is PRUNED at epoch 2 with
intermediate values, trial 5 FAILED; the storage also holds the ``.pruning`` companion study.
It has none of the optional analysis data (test scores, human ratings, quiz accuracy).

``clinical`` (fixtures ``clinical_study``, ``clinical_url``): everything the analyses registered in
:mod:`reports._analyses` read; see :func:`build_clinical_study`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

NAME = "heart"
METRICS = ("rougeL", "bertscore_f1", "train_seconds")
DIRECTIONS = ("maximize", "maximize", "minimize")
# (rougeL, bertscore_f1, train_seconds) per complete trial; trial 0 dominates trial 1.
VALUES = ((0.30, 0.60, 20.0), (0.20, 0.50, 30.0), (0.25, 0.70, 10.0), (0.35, 0.55, 40.0))
HOSTILE_ANSWER = "<script>alert('x')</script> & <b>bold</b>"
DISTRIBUTIONS = {
    "lora.rank": CategoricalDistribution((4, 8, 16)),
    "training.learning_rate": FloatDistribution(1e-4, 1e-3, log=True),
    "training.epochs": IntDistribution(1, 3),
}
STUDY_ATTRS = {
    "space": "smoke", "pruner": "median", "pruning_metric": "eval_loss", "data_source": "qa.jsonl",
    "data_fingerprint": "0123abcd4567ef89",
    "n_train": 8, "n_val": 4, "n_test": 4, "bertscore_encoder": "minilm@L6",
}

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _attrs(number: int, metrics: dict[str, float]) -> dict[str, Any]:
    return {
        "config": {"model": {}, "data": {}, "lora": {}, "training": {}, "decoding": {}},
        "metrics": {**metrics, "eval_loss": 3.0 + number / 10},
        "history": [{"eval_loss": 3.1, "epoch": 1.0}, {**metrics, "epoch": 2.0}],
        "samples": [{"question": f"Question {number}?", "reference": f"Reference {number}.",
                     "answer": HOSTILE_ANSWER if number == 0 else f"Answer {number}."}],
    }


def build_study(storage: Any, n_objectives: int = 3) -> optuna.Study:
    """The study described in the module docstring, with the first ``n_objectives`` objectives."""
    study = optuna.create_study(study_name=NAME, storage=storage, directions=list(DIRECTIONS[:n_objectives]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(list(METRICS[:n_objectives]))
    for key, value in STUDY_ATTRS.items():
        study.set_user_attr(key, value)
    for number, values in enumerate(VALUES):
        study.add_trial(optuna.trial.create_trial(
            values=values[:n_objectives],
            params={"lora.rank": (4, 8, 16)[number % 3], "training.learning_rate": 1e-4 * (number + 1),
                    "training.epochs": 2},
            distributions=DISTRIBUTIONS,
            user_attrs=_attrs(number, dict(zip(METRICS, values))),
            intermediate_values={1: 3.2 - number / 10, 2: 3.1 - number / 10},
        ))
    # Pruned and failed trials go through ask/tell as in study.optimize.loop; Trial.report is refused
    # for multi-objective studies, so intermediate values go to the storage directly.
    pruned = study.ask(fixed_distributions=DISTRIBUTIONS)
    for step, value in ((1, 3.5), (2, 3.6)):
        study._storage.set_trial_intermediate_value(pruned._trial_id, step, value)
    pruned.set_user_attr("pruned_at", 2)
    study.tell(pruned, state=TrialState.PRUNED)
    failed = study.ask(fixed_distributions=DISTRIBUTIONS)
    failed.set_user_attr("fail_reason", "RuntimeError: out of memory")
    study.tell(failed, state=TrialState.FAIL)
    optuna.create_study(study_name=NAME + ".pruning", storage=storage, direction="minimize")
    return study


@pytest.fixture()
def hostile_answer() -> str:
    """The answer of trial 0, full of characters that HTML must escape."""
    return HOSTILE_ANSWER


@pytest.fixture()
def storage_url(tmp_path: Path) -> str:
    """A SQLite file holding the study, for the command line (in-memory studies are faster elsewhere)."""
    url = f"sqlite:///{tmp_path / 'heart.db'}"
    build_study(url)
    return url


@pytest.fixture()
def study() -> optuna.Study:
    return build_study(optuna.storages.InMemoryStorage())


@pytest.fixture()
def study_2d() -> optuna.Study:
    return build_study(optuna.storages.InMemoryStorage(), n_objectives=2)


# A second study with everything the clinical analyses read, stored in SQLite (user attributes
# then go through JSON as in a real study). Objectives rougeL (max) and length_error (min).
CLINICAL_NAME = "clinical"
CLINICAL_OBJECTIVES = ("rougeL", "length_error")
# Per COMPLETE trial: metrics, pretraining.epochs, data.answer_style. Ranks of rougeL are
# 2, 1, 4, 3 and of bleu 1, 2, 3, 4: Spearman rho = 1 - 6 * (1 + 1 + 1 + 1) / (4 * 15) = 0.6.
CLINICAL_TRIALS: tuple[tuple[dict[str, float], int, str | None], ...] = (
    ({"rougeL": 0.30, "bleu": 0.10, "length_error": 0.50, "answer_words": 40.0,
      "general_accuracy": 0.70, "general_accuracy_base": 0.75, "forgetting": 0.05}, 0, None),
    ({"rougeL": 0.20, "bleu": 0.20, "length_error": 0.30, "answer_words": 20.0,
      "general_accuracy": 0.72, "general_accuracy_base": 0.75, "forgetting": 0.03}, 2, "concise"),
    ({"rougeL": 0.40, "bleu": 0.30, "length_error": 0.20, "answer_words": 15.0,
      "general_accuracy": 0.60, "general_accuracy_base": 0.75, "forgetting": 0.15}, 0, "one_sentence"),
    ({"rougeL": 0.35, "bleu": 0.40, "length_error": 0.40, "answer_words": 30.0,
      "general_accuracy": 0.65, "general_accuracy_base": 0.75, "forgetting": 0.10}, 1, "concise"),
)
CLINICAL_ATTRS: dict[str, Any] = {
    "test_scores": {
        "base": {"rougeL": 0.10, "length_error": 0.90, "bleu": 0.02},
        "3": {"rougeL": 0.33, "length_error": 0.45, "bleu": 0.35},
        "2": {"rougeL": 0.38, "length_error": 0.25, "bleu": 0.28},
    },
    "human_eval": {"0": {"mean_rating": 3.1, "n": 20}, "2": {"mean_rating": 4.2, "n": 20},
                   "3": {"mean_rating": 3.9, "n": 18}},
    "human_agreement": {"bleu": None, "length_error": -0.5, "rougeL": 1.0},
}
CLINICAL_DISTRIBUTIONS = {"lora.rank": CategoricalDistribution((4, 8, 16))}


def _clinical_config(epochs: int, style: str | None) -> dict[str, Any]:
    return {"model": {}, "data": {"answer_style": style}, "lora": {}, "training": {},
            "decoding": {}, "pretraining": {"epochs": epochs}, "evaluation": {"general_questions": 20}}


def build_clinical_study(storage: Any) -> optuna.Study:
    """COMPLETE trials 0-3 of :data:`CLINICAL_TRIALS`, then a PRUNED trial 4 whose metrics
    (rougeL 0.99, bleu 0.0) must not enter any analysis; study attributes :data:`CLINICAL_ATTRS`."""
    study = optuna.create_study(study_name=CLINICAL_NAME, storage=storage, directions=["maximize", "minimize"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(list(CLINICAL_OBJECTIVES))
    for key, value in CLINICAL_ATTRS.items():
        study.set_user_attr(key, value)
    for number, (metrics, epochs, style) in enumerate(CLINICAL_TRIALS):
        study.add_trial(optuna.trial.create_trial(
            values=[metrics[m] for m in CLINICAL_OBJECTIVES], params={"lora.rank": (4, 8, 16)[number % 3]},
            distributions=CLINICAL_DISTRIBUTIONS,
            user_attrs={"config": _clinical_config(epochs, style), "metrics": metrics},
        ))
    pruned = study.ask(fixed_distributions=CLINICAL_DISTRIBUTIONS)
    pruned.set_user_attr("config", _clinical_config(3, "explained"))
    pruned.set_user_attr("metrics", {"rougeL": 0.99, "bleu": 0.0, "general_accuracy": 0.1, "answer_words": 99.0})
    study.tell(pruned, state=TrialState.PRUNED)
    return study


@pytest.fixture(scope="session")
def clinical_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Built once (creating the SQLite schema takes seconds): tests only read this study."""
    url = f"sqlite:///{tmp_path_factory.mktemp('clinical') / 'clinical.db'}"
    build_clinical_study(url)
    return url


@pytest.fixture()
def clinical_study(clinical_url: str) -> optuna.Study:
    return optuna.load_study(study_name=CLINICAL_NAME, storage=clinical_url)
