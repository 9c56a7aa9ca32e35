"""The heuristic judge score: the base model asked whether an answer agrees with the reference.

A heuristic, off by default (``evaluation.judge_heuristic``; stored configs spell it
``evaluation.judge: true``): a small model is a weak judge, and the
score is the probability it gives to "Yes" against "No", averaged over the questions. It
runs with the trial's adapter disabled, so the judge is the same model in every trial.
A judge of correctness and harm on a real model: :mod:`study.finetune.endpoint_judge`.
"""

from __future__ import annotations

from typing import Any, Sequence

JUDGE_PROMPT = (
    "Question: {question}\nReference answer: {reference}\nCandidate answer: {answer}\n"
    "Does the candidate answer agree with the reference answer? Reply Yes or No."
)


def judge_scores(
    model: Any, tokenizer: Any, questions: Sequence[str], references: Sequence[str], answers: Sequence[str],
    batch_size: int = 16,
) -> list[float]:
    """P(Yes) / (P(Yes) + P(No)) for each answer, from the next-token distribution after the prompt."""
    import torch

    yes = tokenizer.encode("Yes", add_special_tokens=False)[0]
    no = tokenizer.encode("No", add_special_tokens=False)[0]
    prompts = [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": JUDGE_PROMPT.format(question=q, reference=r, answer=a)}],
            add_generation_prompt=True, tokenize=True, return_dict=False,
        )
        for q, r, a in zip(questions, references, answers)
    ]
    device = next(model.parameters()).device
    scores: list[float] = []
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(prompts), batch_size):
                batch = tokenizer.pad({"input_ids": [list(p) for p in prompts[start : start + batch_size]]},
                                      padding=True, return_tensors="pt")  # left padding: last position is real
                logits = model(input_ids=batch["input_ids"].to(device),
                               attention_mask=batch["attention_mask"].to(device)).logits[:, -1].float()
                pair = torch.softmax(logits[:, [yes, no]], dim=-1)  # [B, 2]
                scores += pair[:, 0].tolist()
    finally:
        model.train(was_training)
    return scores
