"""Metrics (pure functions over lists of strings), their statistics, and the objectives a study optimises.

BLEU comes from sacrebleu, ROUGE from rouge-score and BERTScore from bert-score, called
directly: ``evaluate.load`` would fetch metric code from the hub at run time.
"""

from __future__ import annotations

from objectives._bertscore import BertScorer, default_encoder_path
from objectives._exposure import exposure, rank_exposure
from objectives._membership import auc, membership_auc, membership_rows
from objectives._intervals import BLEU_STATS, STATS_SUFFIX, gain_table, interval_table, knowledge_gain, stats_key
from objectives._objectives import (
    KNOWLEDGE_METRICS,
    METRICS,
    OFF_VALIDATION_METRICS,
    Objective,
    objective_for,
    parse_objectives,
)
from objectives._stats import (
    CONFIDENCE,
    Interval,
    difference_of_means,
    gain_summary,
    indistinguishable,
    mean_interval,
    paired_difference,
    paired_t_difference,
    paired_statistic_difference,
    spearman,
    statistic_interval,
    trials_and_questions_difference,
    wilcoxon_p,
)
from objectives._text import (
    answer_words,
    answer_words_per_item,
    bleu,
    bleu_from_stats,
    bleu_stats,
    exact_match,
    exact_match_per_item,
    length_error,
    length_error_per_item,
    length_ratio,
    length_ratio_per_item,
    normalize,
    rouge,
    rouge_per_item,
    token_f1,
    token_f1_per_item,
)

__all__ = [
    "BLEU_STATS",
    "STATS_SUFFIX",
    "CONFIDENCE",
    "KNOWLEDGE_METRICS",
    "OFF_VALIDATION_METRICS",
    "METRICS",
    "BertScorer",
    "Interval",
    "difference_of_means",
    "trials_and_questions_difference",
    "Objective",
    "answer_words",
    "auc",
    "exposure",
    "membership_auc",
    "membership_rows",
    "rank_exposure",
    "answer_words_per_item",
    "bleu",
    "bleu_from_stats",
    "bleu_stats",
    "default_encoder_path",
    "exact_match",
    "exact_match_per_item",
    "gain_table",
    "gain_summary",
    "indistinguishable",
    "interval_table",
    "knowledge_gain",
    "stats_key",
    "length_error",
    "length_error_per_item",
    "length_ratio",
    "length_ratio_per_item",
    "mean_interval",
    "normalize",
    "objective_for",
    "paired_difference",
    "paired_t_difference",
    "paired_statistic_difference",
    "parse_objectives",
    "rouge",
    "rouge_per_item",
    "spearman",
    "statistic_interval",
    "token_f1",
    "token_f1_per_item",
    "wilcoxon_p",
]
