"""Small studies built by hand, shaped like the ones :mod:`study.optimize.loop` writes.

``heart`` (fixtures ``study``, ``study_2d``, ``storage_url``): trials 0-3 are COMPLETE (trial 0
dominates trial 1, so the Pareto front is 0, 2 and 3), trial 4 is PRUNED at epoch 2 with
intermediate values, trial 5 FAILED; the storage also holds the ``.pruning`` study.
It has none of the optional analysis data (test scores, clinicians' review, quiz accuracy).

``clinical`` (fixtures ``clinical_study``, ``clinical_url``): everything the analyses registered in
:mod:`reports._analyses` read; see :func:`build_clinical_study`.

``liver`` (fixtures ``liver_study``, ``liver_single``, ``liver_3d``): a study as stored since the
base model is a point of every study, with per-question scores, intervals, gains, pruning
trials and confirmation; see :func:`build_liver_study`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
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
    "review_results": {  # as python -m study.review results stores it (two raters, 20 questions)
        "raters": {"alice": 60, "bob": 60}, "units": 60,
        "arms": {
            "trial 2": {"trial": 2, "base": "base", "questions": 20,
                        "correct": {"estimate": 0.6, "low": 0.39, "high": 0.78, "n": 20},
                        "harmful": {"estimate": 0.05, "low": 0.01, "high": 0.24, "n": 20},
                        "too short": {"estimate": 0.1, "low": 0.03, "high": 0.3, "n": 20},
                        "right length": {"estimate": 0.8, "low": 0.58, "high": 0.92, "n": 20},
                        "too long": {"estimate": 0.1, "low": 0.03, "high": 0.3, "n": 20},
                        "vs_base": {"correct": {"estimate": 0.3, "low": 0.05, "high": 0.55, "n": 20},
                                    "harmful": {"estimate": -0.05, "low": -0.15, "high": 0.05, "n": 20}}},
            "base": {"trial": None, "base": None, "questions": 20,
                     "correct": {"estimate": 0.3, "low": 0.15, "high": 0.52, "n": 20},
                     "harmful": {"estimate": 0.1, "low": 0.03, "high": 0.3, "n": 20}},
        },
        "agreement": {"correct": {"statistic": "cohen_kappa", "estimate": 0.7, "low": 0.5, "high": 0.86, "n": 60}},
        "disagreements": [{"arm": "trial 2", "question": 4, "on": ["correct"],
                           "ratings": {"alice": "correct / no / right", "bob": "wrong / no / right"},
                           "comments": {"bob": "wrong drug"}}],
        "metrics": [{"metric": "rougeL", "method": "spearman", "estimate": 0.45, "low": 0.2, "high": 0.64, "n": 60},
                    {"metric": "bleu", "method": "spearman", "estimate": 0.1, "low": -0.15, "high": 0.35, "n": 60}],
    },
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


# A study as stored since the base model is a point of every study (``liver``, fixtures
# ``liver_url``, ``liver_study``, ``liver_single``, ``liver_3d``): see :func:`build_liver_study`.
# Seeded synthetic per-question scores; objective values are their means, as in a real study.
LIVER_QUESTIONS = 20
LIVER_OBJECTIVES = ("rougeL", "length_error", "train_seconds")
#: Main trial numbers: 0 the base model, 1-7 COMPLETE, 8 PRUNED after check 2 (epoch 1).
BEST, CLOSE, FAR, NO_STORED_GAIN = 4, 5, 2, 7
#: study.confirm's summary: seed means rank 5, 4, 3 on rougeL; 5 beats the base model most on rougeL,
#: no configuration beats it on length_error.
LIVER_CONFIRMED: dict[str, Any] = {
    str(n): {
        "rougeL": {"mean": mean, "sd": sd, "seeds": 3, "low": mean - 0.04, "high": mean + 0.04, "questions": 20,
                   "gain": {"base": 0.2, "tuned": mean, "gain": gain, "gain_ci95": ci, "p_value": p,
                            "questions": 20, "significant": ci[0] > 0}},
        "length_error": {"mean": 0.5, "sd": 0.05, "seeds": 3, "low": 0.45, "high": 0.55, "questions": 20,
                         "gain": {"base": 0.8, "tuned": 0.5, "gain": le_gain, "gain_ci95": le_ci, "p_value": 0.3,
                                  "questions": 20, "significant": False}},
    }
    for n, mean, sd, gain, ci, p, le_gain, le_ci in (
        (4, 0.40, 0.02, 0.20, [0.17, 0.23], 0.0001, -0.05, [-0.12, 0.02]),
        (5, 0.42, 0.03, 0.22, [0.15, 0.29], 0.0002, -0.03, [-0.09, 0.04]),
        (3, 0.30, 0.04, 0.10, [-0.01, 0.21], 0.08, 0.01, [-0.05, 0.07]),
    )
}
LIVER_ATTRS: dict[str, Any] = {
    "space": "default", "pruner": "median", "pruning_metric": "eval_loss", "checks_per_epoch": 2,
    "base_decoding": "the space's decoding (not searched)",
}


def _alternating(size: int, amplitude: float) -> np.ndarray:
    return np.array([amplitude if i % 2 == 0 else -amplitude for i in range(size)])


def liver_scores() -> dict[int, dict[str, list[float]]]:
    """Per-question rougeL and length_error of the base model (0) and trials 1-7, seeded.

    Trial 4 is best on rougeL (base + 0.2, give or take 0.01 per question); trial 5 is trial 4 minus 0.002
    give or take 0.02 per question (indistinguishable from it); trial 2 is trial 4 minus 0.1
    give or take 0.01 (distinguishable); the others are noisy and clearly behind.
    """
    rng = np.random.default_rng(7)
    q = LIVER_QUESTIONS
    base_r, base_l = rng.uniform(0.1, 0.3, q), rng.uniform(0.6, 1.0, q)
    best = base_r + 0.2 + _alternating(q, 0.01)
    rouge = {0: base_r, BEST: best, CLOSE: best - 0.002 + _alternating(q, 0.02), FAR: best - 0.1 + _alternating(q, 0.01)}
    for n, offset in ((1, 0.02), (3, 0.05), (6, -0.02), (7, 0.08)):
        rouge[n] = np.clip(base_r + offset + rng.normal(0, 0.03, q), 0, 1)
    length_gain = {0: 0.0, 1: 0.5, 2: 0.1, 3: 0.3, 4: 0.2, 5: 0.25, 6: 0.05, 7: 0.35}
    return {n: {"rougeL": [float(x) for x in rouge[n]],
                "length_error": [float(x) for x in np.clip(base_l - length_gain[n] + rng.normal(0, 0.02, q), 0, 2)]}
            for n in sorted(rouge)}


def liver_eval_loss(rouge_means: dict[int, float]) -> dict[int, dict[int, float]]:
    """eval_loss at checks 1-3 of trials 1-7: at check 1 it falls as the final rougeL rises (rho −1,
    the expected sign), at check 2 it rises with it (rho +1, the wrong sign), check 3 is a fixed shuffle."""
    order = sorted(rouge_means, key=rouge_means.get)  # worst rougeL first
    shuffle = dict(zip(order, (0.4, 0.1, 0.7, 0.3, 0.6, 0.2, 0.5)))
    return {n: {1: 3.0 - r, 2: 2.0 + r, 3: 1.5 + shuffle[n]} for n, r in rouge_means.items()}


def build_liver_study(storage: Any, name: str, n_objectives: int = 2, confirmed: bool = True) -> optuna.Study:
    """The base model (trial 0), COMPLETE trials 1-7 and PRUNED trial 8 with every attribute a
    study now stores; trial 7 has no stored ``gain_vs_base``. ``confirmed``: the study attributes
    ``confirmed`` and ``noise_floor`` of :data:`LIVER_CONFIRMED`."""
    import objectives

    names = LIVER_OBJECTIVES[:n_objectives]
    study = optuna.create_study(study_name=name, storage=storage,
                                directions=["maximize", "minimize", "minimize"][:n_objectives])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(list(names))
    pruning = optuna.create_study(study_name=name + ".pruning", storage=storage, direction="minimize")
    for key, value in {**LIVER_ATTRS, **({"confirmed": LIVER_CONFIRMED,
                                         "noise_floor": {"rougeL": 0.025, "length_error": 0.04}} if confirmed else {})
                       }.items():
        study.set_user_attr(key, value)
    scores = liver_scores()
    rouge_means = {n: float(np.mean(s["rougeL"])) for n, s in scores.items() if n}
    losses = liver_eval_loss(rouge_means)
    for n, pq in scores.items():
        metrics = {m: float(np.mean(v)) for m, v in pq.items()} | {"train_seconds": 0.0 if n == 0 else 60.0 + 10 * n}
        attrs: dict[str, Any] = {
            "config": {"model": {}, "pretraining": {"epochs": 0}}, "metrics": metrics, "per_question": pq,
            "intervals": {m: i.to_dict() for m, i in objectives.interval_table(pq).items()},
            "samples": [{"question": "Q?", "reference": "R.", "answer": f"A{n}."}],
        }
        if n == 0:
            attrs["reference"] = "base"
        else:
            attrs["pruning_trial"] = n - 1
            pruning.add_trial(optuna.trial.create_trial(value=losses[n][3], intermediate_values=losses[n],
                                                        user_attrs={"trial_number": n}))
        if n not in (0, NO_STORED_GAIN):
            attrs["gain_vs_base"] = objectives.gain_table(pq, scores[0], ["rougeL", "length_error"])
        study.add_trial(optuna.trial.create_trial(
            values=[metrics[m] for m in names], user_attrs=attrs,
            params={} if n == 0 else {"lora.rank": (4, 8, 16)[n % 3]},
            distributions={} if n == 0 else CLINICAL_DISTRIBUTIONS,
        ))
    pruned = study.ask(fixed_distributions=CLINICAL_DISTRIBUTIONS)
    pruned.set_user_attr("pruning_trial", 7)
    pruned.set_user_attr("pruned_at", 1.0)
    study.tell(pruned, state=TrialState.PRUNED)
    pruning.add_trial(optuna.trial.create_trial(state=TrialState.PRUNED, intermediate_values={1: 3.5, 2: 3.6},
                                                user_attrs={"trial_number": 8}))
    return study


@pytest.fixture(scope="session")
def liver_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``liver`` (confirmed), ``liver_single`` (no confirmation) and ``liver_3d`` (with train_seconds)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('liver') / 'liver.db'}"
    build_liver_study(url, "liver")
    build_liver_study(url, "liver_single", confirmed=False)
    build_liver_study(url, "liver_3d", n_objectives=3)
    return url


def _load(url: str, name: str) -> tuple[optuna.Study, optuna.Study]:
    return (optuna.load_study(study_name=name, storage=url),
            optuna.load_study(study_name=name + ".pruning", storage=url))


@pytest.fixture()
def liver_study(liver_url: str) -> tuple[optuna.Study, optuna.Study]:
    """The confirmed ``liver`` study and its pruning study."""
    return _load(liver_url, "liver")


@pytest.fixture()
def liver_single(liver_url: str) -> tuple[optuna.Study, optuna.Study]:
    return _load(liver_url, "liver_single")


@pytest.fixture()
def liver_3d(liver_url: str) -> tuple[optuna.Study, optuna.Study]:
    return _load(liver_url, "liver_3d")


@pytest.fixture()
def liver_trials() -> SimpleNamespace:
    """The trial numbers the ``liver`` design names (test modules cannot import this conftest)."""
    return SimpleNamespace(best=BEST, close=CLOSE, far=FAR, no_stored_gain=NO_STORED_GAIN, confirmed=LIVER_CONFIRMED)
