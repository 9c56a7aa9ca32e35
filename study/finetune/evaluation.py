"""Answering held-out questions and scoring the answers.

Generation is batched with left padding and a KV cache; rows are sorted by prompt length so
that a batch holds prompts of similar length (less padding), and answers are returned in the
original order. The prompts' common start (the system turn) is computed once per batch, and on
the CPU the adapter is folded into the weights while generating. Teacher-forced scoring
(:func:`label_logprobs`) runs the vocabulary head only where an answer token is predicted;
in a whole evaluation (:func:`answers_and_logprobs`) its pass over the prompts is the one
generation starts from. Scoring calls the pure metric functions of :mod:`objectives`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import objectives
from study.core.config import DecodingConfig
from study.finetune.data import IGNORE_INDEX
from study.finetune.logits import answer_logits, prefix_cache
from study.finetune.model import adapter_folded_in


@dataclass
class Evaluation:
    """Metrics of one evaluation, the answers, and per-question scores (intervals, paired tests, Wilcoxon pruner)."""

    metrics: dict[str, float]
    predictions: list[str]
    per_question: dict[str, list] = field(default_factory=dict)  # metric -> one score per question; "bleu_stats": counts


def stop_token_ids(tokenizer: Any) -> list[int]:
    """End-of-sequence ids, including the chat template's end-of-turn token where it has one."""
    ids = {tokenizer.eos_token_id}
    for token in ("<|im_end|>", "<|eot_id|>", "<|end_of_text|>"):
        tid = tokenizer.convert_tokens_to_ids(token)
        if isinstance(tid, int) and tid != tokenizer.unk_token_id and tid >= 0:
            ids.add(tid)
    return sorted(i for i in ids if i is not None)


def generation_kwargs(decoding: DecodingConfig, tokenizer: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "max_new_tokens": decoding.max_new_tokens,
        "do_sample": decoding.do_sample,
        "num_beams": decoding.num_beams,
        "repetition_penalty": decoding.repetition_penalty,
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": stop_token_ids(tokenizer),
    }
    if decoding.do_sample:
        kwargs.update(temperature=decoding.temperature, top_p=decoding.top_p, top_k=0)
    else:
        # Greedy/beam: neutralise sampling fields a model's generation_config may carry.
        kwargs.update(temperature=None, top_p=None, top_k=None)
    return kwargs


def prompt_batch(
    prompts: Sequence[Sequence[int]], pad_token_id: int, share_prefix: bool = True
) -> tuple[Any, Any, int]:
    """Token ids and attention mask of prompts padded on the left, and the length of their shared start.

    Where the rows begin with the same tokens (the system turn of the chat template), the
    padding goes after that common prefix instead of before it: ``[prefix][pad...][rest]``.
    Positions come from the attention mask, so every row sees the same positions as with
    plain left padding, and the prefix can be computed once for all rows. The returned
    prefix length is 0 where sharing is off, there is one row, or the prefix is too short
    to be worth it; it always leaves each row at least one token of its own.
    """
    import torch

    from study.finetune.logits import MIN_SHARED_PREFIX

    shortest = min(len(p) for p in prompts)
    prefix = 0
    if share_prefix and len(prompts) > 1:
        while prefix < shortest - 1 and all(p[prefix] == prompts[0][prefix] for p in prompts):
            prefix += 1
        if prefix < MIN_SHARED_PREFIX:
            prefix = 0
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, p in enumerate(prompts):
        rest = len(p) - prefix
        ids[row, :prefix], mask[row, :prefix] = torch.tensor(list(p[:prefix]), dtype=torch.long), 1
        ids[row, width - rest :], mask[row, width - rest :] = torch.tensor(list(p[prefix:]), dtype=torch.long), 1
    return ids, mask, prefix


def generate_answers(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Sequence[int]],
    decoding: DecodingConfig,
    seed: int = 0,
    on_batch: Callable[[int], None] | None = None,
) -> list[str]:
    """Answer every prompt (token ids ending in the assistant header); returns decoded answers in order."""
    return _answer(model, tokenizer, prompts, None, decoding, seed, on_batch)[0]


def answers_and_logprobs(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Sequence[int]],
    examples: Sequence[dict[str, list[int]]],
    decoding: DecodingConfig,
    seed: int = 0,
) -> tuple[list[str], list[tuple[float, int]]]:
    """Answers to ``prompts`` and, per example, its answer's log-probability and token count.

    ``examples[i]`` is prompt ``i`` with its reference answer (``input_ids``/``labels``, as
    :func:`study.finetune.data.encode_example` makes them). One forward pass per batch does both
    jobs: it scores the reference answers (teacher forcing) and leaves the key/value cache
    of the prompts, from which generation starts instead of encoding them again. The answers
    are those of :func:`generate_answers` up to rounding. With beam search, or where an
    example does not start with its prompt (cut by ``max_seq_length``), the two run apart.
    """
    if decoding.num_beams > 1 or not all(_extends(p, e) for p, e in zip(prompts, examples, strict=True)):
        answers = generate_answers(model, tokenizer, prompts, decoding, seed)
        return answers, label_logprobs(model, examples, tokenizer.pad_token_id)
    return _answer(model, tokenizer, prompts, examples, decoding, seed, None)


def mean_loss(scored: Sequence[tuple[float, int]]) -> float:
    """Mean cross-entropy per answer token from per-example (log-probability, token count) pairs."""
    return -sum(s for s, _ in scored) / max(sum(n for _, n in scored), 1)


def _extends(prompt: Sequence[int], example: dict[str, list[int]]) -> bool:
    n = len(prompt)
    return list(example["input_ids"][:n]) == list(prompt) and all(t == IGNORE_INDEX for t in example["labels"][:n])


def _answer(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Sequence[int]],
    examples: Sequence[dict[str, list[int]]] | None,
    decoding: DecodingConfig,
    seed: int,
    on_batch: Callable[[int], None] | None,
) -> tuple[list[str], list[tuple[float, int]]]:
    """Generation, batch by batch; with ``examples`` each batch's prompts are encoded by scoring them."""
    import torch

    device = next(model.parameters()).device
    kwargs = generation_kwargs(decoding, tokenizer)
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    answers: list[str] = [""] * len(prompts)
    scored: list[tuple[float, int]] = [(0.0, 0)] * (len(prompts) if examples is not None else 0)
    was_training = model.training
    model.eval()
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)  # sampling is reproducible per trial
    try:
        with torch.inference_mode(), adapter_folded_in(model):
            for start in range(0, len(order), decoding.batch_size):
                rows = order[start : start + decoding.batch_size]
                # input_ids: [batch, prompt_len]; output: [batch, prompt_len + new]
                ids, mask, prefix = prompt_batch([prompts[i] for i in rows], tokenizer.pad_token_id,
                                                 share_prefix=decoding.num_beams == 1)
                ids, mask = ids.to(device), mask.to(device)
                if examples is not None:
                    cache, batch_scores = _score_prompt_batch(model, ids, mask, [examples[i] for i in rows],
                                                              tokenizer.pad_token_id)
                    for i, score in zip(rows, batch_scores):
                        scored[i] = score
                    shared = {"cache": cache}
                else:
                    shared = {"cache": prefix_cache(model, ids, prefix)} if prefix else {}  # the common start, once
                output = model.generate(input_ids=ids, attention_mask=mask, use_cache=True, **shared, **kwargs)
                new_tokens = output[:, ids.shape[1] :]
                for i, text in zip(rows, tokenizer.batch_decode(new_tokens, skip_special_tokens=True)):
                    answers[i] = text.strip()
                if on_batch:
                    on_batch(len(rows))
    finally:
        torch.random.set_rng_state(generator_state)
        model.train(was_training)
    return answers, scored


def _score_prompt_batch(
    model: Any, ids: Any, mask: Any, examples: Sequence[dict[str, list[int]]], pad_token_id: int
) -> tuple[Any, list[tuple[float, int]]]:
    """Score the examples' answers laid out after the prompt batch; return the prompts' cache and the scores.

    The rows are ``[prefix][pad...][question][answer][pad...]``: the prompt batch of
    :func:`prompt_batch` with each reference answer appended, positions from the attention
    mask, so the cache of the first ``width`` columns is the prompt batch's own. It is
    returned less its last column: generation computes the last prompt token itself.
    """
    import torch

    width = ids.shape[1]
    prompt_lengths = mask.sum(dim=1).tolist()
    tails = [e["input_ids"][n:] for e, n in zip(examples, prompt_lengths)]
    tail_labels = [e["labels"][n:] for e, n in zip(examples, prompt_lengths)]
    longest = max(len(t) for t in tails)
    extra_ids = torch.full((len(tails), longest), pad_token_id, dtype=torch.long)
    extra_mask = torch.zeros_like(extra_ids)
    labels = torch.full((len(tails), width + longest), IGNORE_INDEX, dtype=torch.long)
    for row, (tail, tail_label) in enumerate(zip(tails, tail_labels)):
        extra_ids[row, : len(tail)], extra_mask[row, : len(tail)] = torch.tensor(tail, dtype=torch.long), 1
        labels[row, width : width + len(tail)] = torch.tensor(tail_label, dtype=torch.long)
    full_ids = torch.cat([ids, extra_ids.to(ids.device)], dim=1)
    full_mask = torch.cat([mask, extra_mask.to(mask.device)], dim=1)
    positions = (full_mask.cumsum(dim=1) - 1).clamp(min=0)
    out = answer_logits(model, full_ids, full_mask, labels.to(ids.device), position_ids=positions, keep_cache=True)
    out.cache.crop(-(full_ids.shape[1] - width + 1))
    return out.cache, _row_sums(out, len(tails))


def _row_sums(out: Any, n_rows: int) -> list[tuple[float, int]]:
    """Per row: the summed log-probability of its labelled tokens and their count."""
    import torch

    picked = torch.log_softmax(out.logits, dim=-1).gather(-1, out.targets.unsqueeze(-1)).squeeze(-1)
    sums = torch.zeros(n_rows, dtype=picked.dtype, device=picked.device).index_add_(0, out.rows, picked)
    counts = torch.bincount(out.rows, minlength=n_rows)
    return [(float(s), int(n)) for s, n in zip(sums.tolist(), counts.tolist())]


def label_logprobs(
    model: Any, examples: Sequence[dict[str, list[int]]], pad_token_id: int, batch_size: int = 16
) -> list[tuple[float, int]]:
    """For each example, the summed log-probability of its labelled tokens and their count (teacher forcing).

    Examples are batched by length (less padding); results come back in the order given.
    """
    import torch

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]["input_ids"]))
    out: list[tuple[float, int]] = [(0.0, 0)] * len(examples)
    try:
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = [examples[i] for i in order[start : start + batch_size]]
                width = max(len(e["input_ids"]) for e in chunk)
                ids = torch.full((len(chunk), width), pad_token_id, dtype=torch.long)
                labels = torch.full((len(chunk), width), IGNORE_INDEX, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, e in enumerate(chunk):  # right padding: positions stay 0..n-1
                    n = len(e["input_ids"])
                    ids[row, :n] = torch.tensor(e["input_ids"])
                    labels[row, :n] = torch.tensor(e["labels"])
                    mask[row, :n] = 1
                scores = _row_sums(answer_logits(model, ids.to(device), mask.to(device), labels.to(device)), len(chunk))
                for i, score in zip(order[start : start + batch_size], scores):
                    out[i] = score
    finally:
        model.train(was_training)
    return out


def answer_loss(model: Any, examples: Sequence[dict[str, list[int]]], pad_token_id: int, batch_size: int = 16) -> float:
    """Mean cross-entropy per answer token over ``examples`` with ``input_ids``/``labels``."""
    return mean_loss(label_logprobs(model, examples, pad_token_id, batch_size))


def score_answers(
    predictions: Sequence[str], references: Sequence[str], bertscorer: objectives.BertScorer | None,
    questions: Sequence[str] = (), language: str | None = None,
) -> Evaluation:
    """Every answer metric of the registry (:func:`objectives.answer_metrics`), with per-question scores.

    ``per_question`` holds each metric that is a mean over questions, and a corpus metric's per-answer
    rows under its stats key (``bleu_stats``: corpus BLEU is not a mean): what intervals and
    paired tests resample. BERTScore only where a scorer is given. ``language`` (ISO 639-1,
    ``data.language``) sets how the overlap metrics read the text; None is English.
    """
    answers = objectives.Answers(predictions, references, questions, language, bertscorer)
    metrics: dict[str, float] = {}
    per_question: dict[str, list] = {}
    for metric in objectives.answer_metrics(with_encoder=bertscorer is not None):
        scores = metric.per_question(answers)
        if metric.from_rows is not None:  # a corpus statistic: rows summed, not a mean of scores
            per_question[objectives.stats_key(metric.name)] = scores
            metrics[metric.name] = metric.from_rows([sum(col) for col in zip(*scores)])
        else:
            per_question[metric.name] = scores
            metrics[metric.name] = sum(scores) / len(scores)
    return Evaluation(metrics=metrics, predictions=list(predictions), per_question=per_question)


def evaluate_model(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Sequence[int]],
    examples: Sequence[dict[str, list[int]]],
    references: Sequence[str],
    decoding: DecodingConfig,
    bertscorer: objectives.BertScorer | None,
    seed: int = 0,
    language: str | None = None,
) -> Evaluation:
    """Generate, score (in ``language``, None: English) and measure the answer loss of one model on one split."""
    start = time.perf_counter()
    predictions, scored = answers_and_logprobs(model, tokenizer, prompts, examples, decoding, seed=seed)
    result = score_answers(predictions, references, bertscorer, language=language)
    result.metrics["eval_loss"] = mean_loss(scored)
    result.per_question[objectives.stats_key("eval_loss")] = [[s, n] for s, n in scored]  # its interval resamples these
    result.metrics["eval_seconds"] = time.perf_counter() - start
    return result
