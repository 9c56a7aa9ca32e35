"""Metrics the trial recipe produces (not from the answers alone): declared here so that objectives,
directions, intervals and the report know them. ``requires`` names the setting that turns one on.
"""

from __future__ import annotations

from objectives._registry import Metric, register

_TRAINING = frozenset({"training"})
_MODEL = frozenset({"model"})

register(
    Metric("eval_loss", "min", "cross-entropy per answer token of the validation references", needs=_MODEL),
    Metric("train_loss", "min", "mean training loss of the last QA-tuning run", needs=_TRAINING),
    Metric("general_accuracy", "max", "general-medicine quiz accuracy after tuning", needs=frozenset({"quiz"}),
           on_validation=False, requires="evaluation.general_questions"),
    Metric("forgetting", "min", "quiz accuracy lost against the base model (per quiz question)",
           needs=frozenset({"quiz", "base"}), on_validation=False, requires="evaluation.general_questions"),
    Metric("judge_score", "max", "P(yes) that an answer agrees with its reference, asked of the base model "
           "(an offline heuristic)", needs=frozenset({"model", "answers", "references", "questions"}),
           requires="evaluation.judge"),
    # Knowledge probes (study.finetune.knowledge): the facts of training pairs (seen) and of validation
    # pairs (unseen) asked in other words; the gain is seen-probe ROUGE-L over the base model's.
    *(Metric(f"probe_{kind}_{name}", direction, f"{name} on the {kind}-fact knowledge probes",
             needs=frozenset({"model", "probes"}), on_validation=False)
      for kind in ("seen", "unseen")
      for name, direction in (("rougeL", "max"), ("bertscore_f1", "max"), ("token_f1", "max"), ("loss", "min"))),
    Metric("knowledge_gain", "max", "seen-probe ROUGE-L minus the base model's, per probe",
           needs=frozenset({"model", "probes", "base"}), on_validation=False),
    Metric("knowledge_gain_loss", "max", "the base model's seen-probe loss minus the trial's: positive = facts "
           "learned", needs=frozenset({"model", "probes", "base"}), on_validation=False),
    Metric("pretrain_seconds", "min", "seconds of continued pre-training", needs=_TRAINING),
    Metric("train_seconds", "min", "seconds of QA tuning (and pre-training), without the checks", needs=_TRAINING),
    Metric("eval_seconds", "min", "seconds spent answering and scoring the validation questions", needs=_MODEL),
    Metric("probe_seconds", "min", "seconds spent on the knowledge probes", needs=_MODEL),
    Metric("total_seconds", "min", "wall seconds of the whole trial", needs=_TRAINING),
)
