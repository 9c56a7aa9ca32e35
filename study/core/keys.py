"""The names of what a study stores, defined once: user-attribute keys and the pruning study's name.

Writers (:mod:`study.optimize.records`, the loop, recovery, export) and readers (the report,
export, human evaluation, the benchmarks) import these names instead of spelling the strings.
Values are JSON (Optuna stores user attributes as JSON): no NaN, ``None`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The pruning study of study S is S + PRUNING_SUFFIX (see study.optimize.pruning).
PRUNING_SUFFIX = ".pruning"
#: The clinicians' review of study S by rater R is the study S + REVIEW_INFIX + R (see study.review).
REVIEW_INFIX = ".review."
#: The confirmation runs of study S are the trials of study S + CONFIRM_SUFFIX (see study.confirm).
CONFIRM_SUFFIX = ".confirm"

# --- on a trial of the main study -------------------------------------------------------------
CONFIG = "config"  # the full TrialConfig as a dict: export and confirm rebuild the fine-tune from it
METRICS = "metrics"  # validation metrics of the last evaluation, one mapping (the old form; read trial_metrics)
METRIC_NAMES = "metric_names"  # the names of those metrics, each also stored as its own numeric attribute
HISTORY = "history"  # one mapping of metrics per check, with its "epoch"
SAMPLES = "samples"  # a few questions with reference and generated answer
ANSWERS = "answers"  # every validation answer, in the order of the validation split
PER_QUESTION = "per_question"  # metric -> per-question scores, in validation order
INTERVALS = "intervals"  # metric -> 95 % bootstrap interval {estimate, low, high, n}
GAIN_VS_BASE = "gain_vs_base"  # objective metric -> paired difference against the base model (see GAIN_BASIS)
#: what GAIN_VS_BASE was measured against: SAME_DECODING (the base answering with the trial's decoding and
#: prompt); absent on studies from before 2026-12-07, whose gains are against the base trial's default decoding
GAIN_BASIS = "gain_basis"
SAME_DECODING = "base with the same decoding"
GAIN_VS_BASE_DEFAULT = "gain_vs_base_default_decoding"  # the same gains against the base trial (default decoding)
BASE_SAME_DECODING = "base_same_decoding"  # metric -> the base model's value with the trial's decoding
REFERENCE = "reference"  # "base": the untuned base model scored as a point of the study
PRUNED_AT = "pruned_at"  # the epoch (or question) at which the pruner stopped the trial
# CPU seconds of the worker process while the trial ran (every thread): its cost, whatever else the machine ran
CPU_SECONDS = "cpu_seconds"
ADAPTER = "adapter"  # --save-adapters: {artifact_id, filename} of the trial's adapter zip (Pareto trials)
FAIL_REASON = "fail_reason"
FAIL_TRACEBACK = "fail_traceback"
RETRY_OF = "retry_of"  # the trial whose configuration this one runs again (its worker died)
RETRY_REASON = "retry_reason"  # why the trial before this retry was given up: "trial 7: its worker sent no ..."
PRUNING_TRIAL = "pruning_trial"  # number of this trial's trial in the pruning study
PRUNING_TRIAL_BEFORE = "pruning_twin"  # the same, as studies stored before 2026-12-03 name it

# --- on a trial of the confirmation study (<name>.confirm) ------------------------------------
CONFIRMS = "confirms"  # the main study's trial whose configuration this run re-trains
SEED = "seed"  # the training seed of this run
TEST_PER_QUESTION = "test_per_question"  # a confirmation run's per-question scores on the untouched test split
BASE_LIKE = "base_like"  # a base run: the trial whose decoding and prompt the base model answers with

# --- on a trial of the pruning study ----------------------------------------------------------
MAIN_TRIAL = "trial_number"  # the main study's trial it stands for

# --- on the main study ------------------------------------------------------------------------
SPACE = "space"
PRUNER = "pruner"  # the pruner's registry name (study.pruners)
PRUNER_SETTINGS = "pruner_settings"  # the settings the space gave it, as a mapping (empty: its defaults)
PRUNING_STEP = "pruning_step"  # what a step of the pruning study is: "epoch" (a check) or "question"
PRUNING_METRIC = "pruning_metric"
CHECKS_PER_EPOCH = "checks_per_epoch"
DATA_SOURCE = "data_source"
DATA_FINGERPRINT = "data_fingerprint"
BERTSCORE_ENCODER = "bertscore_encoder"
LANGUAGE = "language"  # ISO 639-1 code of the data, set or detected at study start: how the metrics read it
DATA_SCANNED = "data_scanned"  # study.run scanned the data for personal identifiers before the first trial
PERSONAL_DATA = "personal_data_allowed"  # what --allow-personal-data let through: {findings, kinds, allowed_by}
BASE_DECODING = "base_decoding"  # how the base model answered: "the space's default decoding" or "fixed"
TEST_SCORES = "test_scores"  # export: trial number -> test-split scores
CONFIRMED = "confirmed"  # study.confirm: trial number -> metric -> {mean, sd, seeds, low, high, gain}
NOISE_FLOOR = "noise_floor"  # study.confirm: metric -> median seed-to-seed SD of one configuration
STOP = "stop"  # the stopping rule's decision that stopped the study (study.optimize.stopping.Decision.to_dict)
STOP_CURVE = "stop_curve"  # finished trials -> the rule's {best, estimate, noise, rule} at that decision (the report)
HUMAN_EVAL = "human_eval"
HUMAN_AGREEMENT = "human_agreement"
REVIEW_RATERS = "review_raters"  # study.review start: rater -> {study, storage} of each rater's review study
REVIEW_BASE_ANSWERS = "review_base_answers"  # decoding -> the base model's validation answers and scores
REVIEW_RESULTS = "review_results"  # study.review results: shares, gains over the base, agreement, metric ranking

# --- on a review study (<name>.review.<rater>): a system attribute, which optuna-dashboard does not show
REVIEW_KEY = "lora_study:review_key"  # item (trial number) -> the arm and question it shows: the unblinding key


def trial_metrics(user_attrs: Mapping[str, Any]) -> dict[str, float | None]:
    """A trial's validation metrics: the numeric attributes named in ``metric_names``, or, in
    studies stored before those, the ``metrics`` mapping. Empty for a trial never scored."""
    names = user_attrs.get(METRIC_NAMES)
    if isinstance(names, list):
        return {str(n): user_attrs[n] for n in names if n in user_attrs}
    return dict(user_attrs.get(METRICS) or {})


def pruning_trial_number(user_attrs: dict) -> int | None:
    """The pruning study's trial of a main trial, in studies stored before and after the rename."""
    number = user_attrs.get(PRUNING_TRIAL, user_attrs.get(PRUNING_TRIAL_BEFORE))
    return number if isinstance(number, int) else None
