"""Membership inference: can a model's answer loss tell the pairs it was trained on from held-out pairs?

The attack is the simplest one (Yeom et al. 2018): a pair is guessed to be a training pair
when the model's loss on its answer is low. ``membership_auc`` is the area under that
guess's ROC curve, i.e. the Mann-Whitney probability that a held-out pair's loss (per answer
token) exceeds a training pair's, ties counting half: 0.5 means the model does not tell its
training data apart, 1.0 that every training pair has a lower loss than every held-out one.

A trial stores it as per-question rows ``[training sum, training tokens, held-out sum,
held-out tokens]`` (summed answer log-probabilities and answer tokens of the i-th training
and i-th held-out pair) under ``membership_auc_stats``, so that its bootstrap interval and
its paired difference with the base model resample whole rows: every resample keeps as many
training as held-out pairs.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def auc(member_losses: Sequence[float], held_out_losses: Sequence[float]) -> float:
    """P(held-out loss > training loss) + ½ P(equal), over all pairs of one of each."""
    members = np.asarray(member_losses, dtype=float)
    held_out = np.asarray(held_out_losses, dtype=float)
    if members.size == 0 or held_out.size == 0:
        raise ValueError("membership AUC needs at least one training and one held-out example")
    above = (held_out[None, :] > members[:, None]).mean()
    ties = (held_out[None, :] == members[:, None]).mean()
    return float(above + 0.5 * ties)


def membership_rows(members: Sequence[tuple[float, int]], held_out: Sequence[tuple[float, int]]) -> list[list[float]]:
    """Rows ``[training sum, tokens, held-out sum, tokens]`` of per-example (log-probability, tokens) pairs.

    The two lists are cut to the shorter one's length.
    """
    return [[float(m[0]), float(m[1]), float(h[0]), float(h[1])] for m, h in zip(members, held_out)]


def membership_statistic(rows: np.ndarray) -> Callable[[np.ndarray], float]:
    """The AUC of the rows at an index array (repeats allowed): what the bootstrap evaluates."""
    member_loss = -rows[:, 0] / np.maximum(rows[:, 1], 1.0)
    held_out_loss = -rows[:, 2] / np.maximum(rows[:, 3], 1.0)
    return lambda idx: auc(member_loss[idx], held_out_loss[idx])


def membership_auc(rows: Sequence[Sequence[float]]) -> float:
    """The AUC of all rows (what a trial records as ``membership_auc``)."""
    table = np.asarray(rows, dtype=float)
    return membership_statistic(table)(np.arange(len(table)))


__all__ = ["auc", "membership_auc", "membership_rows", "membership_statistic"]
