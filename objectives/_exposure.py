"""Canary exposure (Carlini et al. 2019, "The Secret Sharer"): how far a model memorised one secret.

A canary is a made-up record with a random secret put into the training data. Its exposure is

    exposure = log2 |R| - log2 rank(secret)

where ``R`` is the space of secrets the canary's could have been and ``rank`` the secret's place
among all of them when ordered by the model's log-perplexity (negative log-likelihood, lower =
likelier). Enumerating ``R`` (here tens of millions of identity numbers) is too costly, so the
rank is extrapolated as in the paper (section 4.3): the log-perplexities of a random sample of
candidates are fitted with a skew-normal distribution, and ``rank / |R|`` is its CDF at the
secret's log-perplexity. An untrained model ranks the secret like any candidate, which gives
about ``1 / ln 2 ≈ 1.44`` bits on average; a model that has memorised it ranks it first, which
gives the maximum, ``log2 |R|``.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np


def exposure(secret: float, candidates: Sequence[float], space_size: float) -> float:
    """Exposure in bits of a secret with log-perplexity ``secret`` among ``candidates``' (the same units).

    Capped at ``log2(space_size)`` (the secret ranked first) and at least 0 (ranked last).
    """
    from scipy import stats

    sample = np.asarray(candidates, dtype=float)
    if sample.size < 3 or not np.all(np.isfinite(sample)) or not math.isfinite(secret):
        raise ValueError("exposure needs at least three finite candidate log-perplexities and a finite secret's")
    if space_size < 2:
        raise ValueError(f"the candidate space must hold at least 2 secrets, got {space_size}")
    top = math.log2(space_size)
    if np.ptp(sample) == 0:  # all candidates alike: nothing to fit; their own ranks say as much
        return rank_exposure(secret, sample, space_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        shape, loc, scale = stats.skewnorm.fit(sample)
        log_share = float(stats.skewnorm.logcdf(secret, shape, loc, scale))  # ln of rank / |R|
    if not math.isfinite(log_share):
        return top
    return float(min(top, max(0.0, -log_share / math.log(2))))


def rank_exposure(secret: float, candidates: Sequence[float], space_size: float) -> float:
    """The same measure from the sample's own ranks, without extrapolation (a check of the fit).

    ``rank / |R|`` is estimated by the share of candidates at least as likely as the secret,
    counting the secret itself; it cannot exceed ``log2(len(candidates) + 1)`` bits.
    """
    sample = np.asarray(candidates, dtype=float)
    share = (1 + np.count_nonzero(sample <= secret)) / (sample.size + 1)
    return float(min(math.log2(space_size), -math.log2(share)))


__all__ = ["exposure", "rank_exposure"]
