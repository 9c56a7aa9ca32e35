"""Metrics (pure functions over lists of strings) and the objectives a study optimises.

BLEU comes from sacrebleu, ROUGE from rouge-score and BERTScore from bert-score, called
directly: ``evaluate.load`` would fetch metric code from the hub at run time.
"""

from __future__ import annotations

from objectives._bertscore import BertScorer, default_encoder_path
from objectives._objectives import METRICS, Objective, objective_for, parse_objectives
from objectives._text import (
    answer_words,
    bleu,
    exact_match,
    length_error,
    length_ratio,
    normalize,
    rouge,
    rouge_per_item,
    token_f1,
    token_f1_per_item,
)

__all__ = [
    "METRICS",
    "BertScorer",
    "Objective",
    "answer_words",
    "bleu",
    "default_encoder_path",
    "exact_match",
    "length_error",
    "length_ratio",
    "normalize",
    "objective_for",
    "parse_objectives",
    "rouge",
    "rouge_per_item",
    "token_f1",
    "token_f1_per_item",
]
