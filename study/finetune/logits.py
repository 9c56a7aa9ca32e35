"""Forward-pass maths shared by training and evaluation: logits only where a label is predicted,
and the key/value cache of the rows' common start computed once.
"""

from __future__ import annotations

from typing import Any, NamedTuple

MIN_SHARED_PREFIX = 8  # shorter common prefixes are not worth a second forward call


def shared_prefix_length(input_ids: Any, attention_mask: Any, limit: int) -> int:
    """How many leading tokens all rows have in common (and attend to), at most ``limit``."""
    same = (input_ids == input_ids[:1]).all(dim=0)
    if attention_mask is not None:
        same &= attention_mask.bool().all(dim=0)
    return min(int(same.long().cumprod(0).sum()), limit)


def prefix_cache(model: Any, input_ids: Any, prefix: int) -> Any:
    """Key/value cache of the first ``prefix`` tokens of row 0, computed once and repeated for every row."""
    cache = model(input_ids=input_ids[:1, :prefix], use_cache=True, logits_to_keep=1).cache
    cache.batch_repeat_interleave(len(input_ids))
    return cache


class AnswerLogits(NamedTuple):
    logits: Any  # [n, vocab] fp32: one row per labelled token
    targets: Any  # [n]: the labelled token ids
    rows: Any  # [n]: the batch row of each
    cache: Any = None  # the key/value cache of every position, with ``keep_cache``


def answer_logits(
    model: Any,
    input_ids: Any,
    attention_mask: Any,
    labels: Any,
    share_prefix: bool = True,
    position_ids: Any = None,
    keep_cache: bool = False,
) -> AnswerLogits:
    """Logits only at the positions that predict a labelled token, those tokens, and their rows.

    Two savings, both exact up to rounding:

    - Position ``t`` predicts token ``t + 1``, so the LM head runs only where the next label
      is not ignored (``logits_to_keep`` as a boolean mask). For QA examples that skips the
      prompt, about half of all positions; SmolLM2's vocabulary head is a fifth of its weights.
    - Rows that start with the same tokens (the chat template's system turn: ~25 of ~70
      tokens of a bundled QA example) share that prefix: it runs once, its key/value cache
      is repeated for every row, and the rest of each row attends to it (``share_prefix``;
      gradients flow back through the shared cache). With LoRA dropout the prefix's
      dropout mask is then shared by the rows of a batch.

    ``position_ids`` are needed where rows are padded before their last token (positions
    then come from the attention mask); ``keep_cache`` also returns the key/value cache of
    the whole batch, which generation can start from.
    """
    import torch.nn.functional as F

    from study.finetune.data import IGNORE_INDEX

    targets = labels[:, 1:]  # [B, T-1]
    keep = targets != IGNORE_INDEX
    positions = F.pad(keep, (0, 1), value=False)  # [B, T]: the last position predicts nothing
    prefix = 0
    if share_prefix and len(input_ids) > 1 and bool(keep.any()):
        first = int(positions.any(dim=0).nonzero()[0])  # the prefix must end before the first logit
        prefix = shared_prefix_length(input_ids, attention_mask, first)
    if prefix < MIN_SHARED_PREFIX:
        prefix = 0
    output = model(
        input_ids=input_ids[:, prefix:],
        attention_mask=attention_mask,  # [B, T]: prefix and suffix
        position_ids=None if position_ids is None else position_ids[:, prefix:],
        cache=prefix_cache(model, input_ids, prefix) if prefix else None,
        use_cache=keep_cache,
        logits_to_keep=positions[:, prefix:],
    )
    return AnswerLogits(output.logits.float(), targets[keep], keep.nonzero()[:, 0], output.cache if keep_cache else None)
