"""Memorisation metrics (study.finetune.memorisation): how far an adapter tells its training data apart.

Produced by the trial recipe, not from the answers: declared here so that they can be
objectives (``membership_auc:min``, ``exposure:min``) and get intervals and gains.
"""

from __future__ import annotations

from objectives._registry import Metric, register

_MODEL = frozenset({"model", "training"})

register(
    Metric("membership_auc", "min", "Mann-Whitney AUC of the answer loss of training against held-out pairs: "
           "0.5 = the adapter does not tell its training data apart, 1 = it does", needs=_MODEL, on_validation=False),
    Metric("exposure", "min", "bits: how far the made-up identity numbers of privacy.canaries were memorised "
           "(Carlini et al. 2019)", needs=_MODEL, on_validation=False, requires="privacy.canaries"),
    Metric("memorisation_seconds", "min", "seconds spent measuring memorisation", needs=_MODEL),
)
