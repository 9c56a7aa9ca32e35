"""Memorisation measured in a trial: membership inference on every trial, canary exposure where asked.

``membership_auc`` (on unless ``privacy.membership_pairs: 0``): the answer loss of the first N
training pairs against the first N validation pairs (N = the smaller split, or
``privacy.membership_pairs``), scored by :func:`objectives.auc`. The validation side is the
per-question loss the trial's last evaluation already measured (``eval_loss_stats``), so the
cost is one teacher-forced pass over N training pairs. Both sides are written as the
validation split is, with the trial's prompt and, where it is on, retrieval.

``exposure`` (``privacy.canaries: K``): the mean exposure in bits of the K canaries
(:mod:`study.finetune.canaries`), with each canary's value as its per-item score, so that it
carries an interval over canaries.

The base model is measured alike (``score_base_model``): its values are the reference, about
0.5 and 1.4 bits.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import objectives
from study.core.config import TrialConfig
from study.finetune.evaluation import label_logprobs
from study.finetune.workbench import Workbench


def memorisation_scores(model: Any, bench: Workbench, cfg: TrialConfig,
                        held_out: Sequence[Sequence[float]] | None = None) -> tuple[dict[str, float], dict[str, list]]:
    """``membership_auc`` and ``exposure`` of ``model`` where the config asks, with their per-item rows.

    ``held_out``: the validation split's per-question ``[log-probability sum, answer tokens]``
    from the trial's evaluation, in validation order; measured here when it is missing or short.
    """
    start = time.perf_counter()
    metrics: dict[str, float] = {}
    items: dict[str, list] = {}
    rows = membership(model, bench, cfg, held_out)
    if rows:
        key = objectives.stats_key("membership_auc")
        items[key] = rows
        metrics["membership_auc"] = objectives.membership_auc(rows)
    if cfg.privacy.canaries:
        from study.finetune.canaries import exposures

        items["exposure"] = exposures(model, bench.base.tokenizer, cfg)
        metrics["exposure"] = sum(items["exposure"]) / len(items["exposure"])
    if metrics:
        metrics["memorisation_seconds"] = time.perf_counter() - start
    return metrics, items


def membership(model: Any, bench: Workbench, cfg: TrialConfig,
               held_out: Sequence[Sequence[float]] | None) -> list[list[float]]:
    """Rows ``[training sum, tokens, held-out sum, tokens]`` of N training and N validation pairs; [] when off."""
    n = min(len(bench.splits.train), len(bench.splits.val))
    if cfg.privacy.membership_pairs is not None:
        n = min(n, cfg.privacy.membership_pairs)
    if n < 2:
        return []
    pad = bench.base.tokenizer.pad_token_id
    members = label_logprobs(model, _examples(bench, cfg, bench.splits.train[:n]), pad)
    if held_out is None or len(held_out) < n:
        held_out = label_logprobs(model, _examples(bench, cfg, bench.splits.val[:n]), pad)
    return objectives.membership_rows([(s, t) for s, t in members], [(s, t) for s, t in held_out[:n]])


def _examples(bench: Workbench, cfg: TrialConfig, pairs: Sequence[Any]) -> list[dict[str, list[int]]]:
    """Teacher-forced examples written as the validation split's are (prompt, retrieval)."""
    pairs = bench.with_retrieval(list(pairs), cfg.retrieval)
    return bench.tokens.examples(pairs, cfg.data.instructions, cfg.data.max_seq_length)
