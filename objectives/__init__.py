"""Metrics (pure functions over lists of strings), their statistics, and the objectives a study optimises.

BLEU comes from sacrebleu, ROUGE from rouge-score and BERTScore from bert-score, called
directly: ``evaluate.load`` would fetch metric code from the hub at run time.
"""

from __future__ import annotations

from objectives._agreement import (
    MetricAgreement,
    cohen_kappa,
    correlation_interval,
    krippendorff_alpha,
    metric_agreement,
    rater_agreement,
    share_interval,
    wilson_interval,
)
from objectives._bertscore import BertScorer, default_encoder_path, encoder_warning
from objectives._language import Language, detect_language, language
from objectives._selfcheck import SelfCheck, checked_language, self_check
from objectives._exposure import exposure, rank_exposure
from objectives._membership import auc, membership_auc, membership_rows
from objectives._intervals import BLEU_STATS, STATS_SUFFIX, gain_table, interval_table, knowledge_gain, stats_key
from objectives._gain import Gain, best_gain, best_verdict, decoding_only, verdict
from objectives._front import direction_of, dominates, pareto_front
from objectives._registry import Answers, Metric, answer_metrics, metric, register, registered, unproduced
from objectives._objectives import (
    JUDGE_METRICS,
    KNOWLEDGE_METRICS,
    METRICS,
    OFF_VALIDATION_METRICS,
    Objective,
    objective_for,
    parse_objectives,
)
from objectives._paired_tests import gain_summary, indistinguishable, spearman, wilcoxon_p
from objectives._stats import (
    CONFIDENCE,
    Interval,
    mean_interval,
    paired_difference,
    paired_statistic_difference,
    statistic_interval,
)
from objectives._t_intervals import difference_of_means, paired_t_difference, trials_and_questions_difference
from objectives._text import (
    answer_words,
    answer_words_per_question,
    bleu,
    bleu_from_stats,
    bleu_stats,
    exact_match,
    exact_match_per_question,
    length_error,
    length_error_per_question,
    length_ratio,
    length_ratio_per_question,
    normalize,
    rouge,
    rouge_per_question,
    token_f1,
    token_f1_per_question,
)

__all__ = [
    "direction_of",
    "dominates",
    "pareto_front",
    "MetricAgreement",
    "cohen_kappa",
    "correlation_interval",
    "krippendorff_alpha",
    "metric_agreement",
    "rater_agreement",
    "share_interval",
    "wilson_interval",
    "Gain",
    "best_gain",
    "best_verdict",
    "decoding_only",
    "verdict",
    "Answers",
    "Metric",
    "answer_metrics",
    "metric",
    "register",
    "registered",
    "unproduced",
    "BLEU_STATS",
    "STATS_SUFFIX",
    "CONFIDENCE",
    "JUDGE_METRICS",
    "KNOWLEDGE_METRICS",
    "OFF_VALIDATION_METRICS",
    "METRICS",
    "SelfCheck",
    "BertScorer",
    "Interval",
    "Language",
    "difference_of_means",
    "trials_and_questions_difference",
    "Objective",
    "answer_words",
    "auc",
    "exposure",
    "membership_auc",
    "membership_rows",
    "rank_exposure",
    "answer_words_per_question",
    "bleu",
    "bleu_from_stats",
    "bleu_stats",
    "checked_language",
    "default_encoder_path",
    "detect_language",
    "encoder_warning",
    "exact_match",
    "exact_match_per_question",
    "gain_table",
    "gain_summary",
    "indistinguishable",
    "interval_table",
    "knowledge_gain",
    "language",
    "stats_key",
    "length_error",
    "length_error_per_question",
    "length_ratio",
    "length_ratio_per_question",
    "mean_interval",
    "normalize",
    "objective_for",
    "paired_difference",
    "paired_t_difference",
    "paired_statistic_difference",
    "parse_objectives",
    "rouge",
    "rouge_per_question",
    "self_check",
    "spearman",
    "statistic_interval",
    "token_f1",
    "token_f1_per_question",
    "wilcoxon_p",
]
