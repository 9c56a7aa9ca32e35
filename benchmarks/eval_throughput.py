"""Batched (left-padded) versus one-at-a-time greedy generation of validation answers.

    python -m benchmarks.eval_throughput            # 16 questions, up to 32 new tokens each
    python -m benchmarks.eval_throughput --quick    # 6 questions, up to 12 new tokens

Both runs call ``study.finetune.evaluation.generate_answers`` on the same prompts with the base
SmolLM2-135M model, once with ``DecodingConfig(batch_size=16)`` and once with
``batch_size=1``. Reports generated tokens per second of each (tokens up to and including the
first stop token of each answer, counted from the token ids that ``generate`` returns), the
speed-up (goal: at least 3x) and whether the answers are identical (they must be).

Then a whole evaluation's model work, answers and eval loss, done as a trial does it
(``answers_and_logprobs``: the eval-loss pass leaves the prompts' cache and generation starts
from it) and apart (``generate_answers``, then ``label_logprobs``), batched, alternating
twice, best of each: the seconds of each, their ratio and whether answers and loss agree.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from benchmarks import _common as common

NAME = "eval_throughput"
GOAL_SPEEDUP = 3.0


class TokenCounter:
    """Wraps ``model.generate`` to count the new tokens of every row, up to its first stop token."""

    def __init__(self, model: Any, stop_ids: list[int]) -> None:
        self.model = model
        self.stop_ids = set(stop_ids)
        self.useful = 0  # new tokens that belong to an answer (stop token included)
        self.slots = 0  # rows x decoding steps actually computed (padding after a stop included)
        self._generate: Callable[..., Any] = model.generate

    def __enter__(self) -> "TokenCounter":
        self.model.generate = self._count  # an instance attribute shadows the method
        return self

    def __exit__(self, *exc: Any) -> None:
        del self.model.generate

    def _count(self, *args: Any, **kwargs: Any) -> Any:
        output = self._generate(*args, **kwargs)
        prompt_len = kwargs["input_ids"].shape[1]
        new = output[:, prompt_len:].tolist()  # [rows, steps]
        for row in new:
            stops = [i for i, t in enumerate(row) if t in self.stop_ids]
            self.useful += stops[0] + 1 if stops else len(row)
            self.slots += len(row)
        return output


def measure(bench: Any, prompts: list[list[int]], decoding: Any) -> dict[str, Any]:
    from study.finetune.evaluation import generate_answers, stop_token_ids

    model, tokenizer = bench.base.model, bench.base.tokenizer
    with TokenCounter(model, stop_token_ids(tokenizer)) as counter, common.timed() as t:
        answers = generate_answers(model, tokenizer, prompts, decoding)
    return {
        "answers": answers,
        "seconds": t.wall,
        "cpu_seconds": t.cpu,
        "tokens": counter.useful,
        "token_slots": counter.slots,
        "tokens_per_s": common.ratio(counter.useful, t.wall),
    }


def measure_evaluation(bench: Any, prompts: list[list[int]], examples: list[Any], decoding: Any,
                       rounds: int = 2) -> dict[str, Any]:
    """Answers and eval loss from one pass and from two, alternating ``rounds`` times; best seconds of each."""
    from study.finetune.evaluation import answers_and_logprobs, generate_answers, label_logprobs, mean_loss

    model, tokenizer = bench.base.model, bench.base.tokenizer
    seconds: dict[str, list[float]] = {"one_pass": [], "apart": []}
    results: dict[str, Any] = {}
    for _ in range(rounds):
        with common.timed() as t:
            results["one_pass"] = answers_and_logprobs(model, tokenizer, prompts, examples, decoding)
        seconds["one_pass"].append(t.wall)
        with common.timed() as t:
            results["apart"] = (generate_answers(model, tokenizer, prompts, decoding),
                                label_logprobs(model, examples, tokenizer.pad_token_id))
        seconds["apart"].append(t.wall)
    (answers, scored), (answers_apart, scored_apart) = results["one_pass"], results["apart"]
    return {
        "one_pass_seconds": min(seconds["one_pass"]),
        "apart_seconds": min(seconds["apart"]),
        "ratio": common.ratio(min(seconds["one_pass"]), min(seconds["apart"])),
        "answers_identical": answers == answers_apart,
        "eval_loss": mean_loss(scored),
        "eval_loss_apart": mean_loss(scored_apart),
    }


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--questions", type=int, help="validation questions answered (default 16; quick 6)")
    p.add_argument("--max-new-tokens", type=int, help="longest answer in tokens (default 32; quick 12)")
    p.add_argument("--batch-size", type=int, default=16, help="rows generated together in the batched run (default 16)")
    args = p.parse_args(argv)
    common.quiet()
    common.apply_threads(args.threads)
    n_questions = args.questions or (6 if args.quick else 16)
    max_new = args.max_new_tokens or (12 if args.quick else 32)

    from study.core.config import DecodingConfig
    from study.finetune.workbench import Workbench

    cfg = common.trial_config(data={"max_val_examples": n_questions, "max_train_examples": 1})
    bench = Workbench.load(cfg, bertscore=False)
    prompts = bench.tokens.prompts(bench.splits.val, cfg.data.system_prompt)
    greedy = {"do_sample": False, "max_new_tokens": max_new, "num_beams": 1}
    # One short call first so that neither timed run pays for first-call set-up.
    from study.finetune.evaluation import generate_answers

    generate_answers(bench.base.model, bench.base.tokenizer, prompts[:2], DecodingConfig(max_new_tokens=2, batch_size=2))

    load_before = common.load_avg()
    common.progress(f"{NAME}: batched generation of {len(prompts)} answers (batch {args.batch_size}) ...")
    batched = measure(bench, prompts, DecodingConfig(batch_size=args.batch_size, **greedy))
    common.progress(f"{NAME}: one-at-a-time generation ...")
    single = measure(bench, prompts, DecodingConfig(batch_size=1, **greedy))
    common.progress(f"{NAME}: answers and eval loss from one pass and apart (twice each) ...")
    examples = bench.tokens.examples(bench.splits.val, cfg.data.system_prompt, cfg.data.max_seq_length)
    evaluation = measure_evaluation(bench, prompts, examples, DecodingConfig(batch_size=args.batch_size, **greedy))

    differing = [i for i, (a, b) in enumerate(zip(batched["answers"], single["answers"])) if a != b]
    speedup = common.ratio(batched["tokens_per_s"], single["tokens_per_s"])
    figures = {
        "questions": len(prompts),
        "max_new_tokens": max_new,
        "batch_size": args.batch_size,
        "batched_tokens_per_s": batched["tokens_per_s"],
        "single_tokens_per_s": single["tokens_per_s"],
        "speedup": speedup,
        "goal_speedup": GOAL_SPEEDUP,
        "goal_met": speedup >= GOAL_SPEEDUP and not differing,
        "answers_identical": not differing,
        "differing_answers": len(differing),
        "batched_seconds": batched["seconds"],
        "single_seconds": single["seconds"],
        "batched_cpu_seconds": batched["cpu_seconds"],
        "single_cpu_seconds": single["cpu_seconds"],
        "generated_tokens": batched["tokens"],
        "generated_tokens_single": single["tokens"],
        "batched_token_slots": batched["token_slots"],
        "evaluation_one_pass_seconds": evaluation["one_pass_seconds"],
        "evaluation_apart_seconds": evaluation["apart_seconds"],
        "evaluation_ratio": evaluation["ratio"],
        "evaluation_answers_identical": evaluation["answers_identical"],
        "evaluation_eval_loss": evaluation["eval_loss"],
        "evaluation_eval_loss_apart": evaluation["eval_loss_apart"],
        "load_avg_before": load_before,
        "load_avg_after": common.load_avg(),
    }
    rows = [
        [f"batched ({args.batch_size})", batched["tokens"], batched["token_slots"], batched["seconds"], batched["tokens_per_s"]],
        ["one at a time", single["tokens"], single["token_slots"], single["seconds"], single["tokens_per_s"]],
    ]
    body = common.table(["generation", "answer tokens", "token slots", "seconds", "tokens/s"], rows)
    body += f"\nspeed-up {speedup:.2f}x (goal >= {GOAL_SPEEDUP:g}x); answers identical: {not differing}\n\n"
    body += common.table(
        ["evaluation (answers + eval loss)", "seconds", "eval_loss"],
        [["one pass (answers_and_logprobs)", evaluation["one_pass_seconds"], evaluation["eval_loss"]],
         ["apart (generate_answers, label_logprobs)", evaluation["apart_seconds"], evaluation["eval_loss_apart"]]],
    )
    body += f"\none pass / apart {evaluation['ratio']:.3f}; answers identical: {evaluation['answers_identical']}"
    notes = [
        "answer tokens: new tokens up to and including each answer's first stop token; token slots: rows x "
        "decoding steps computed (a finished row keeps filling its slot until the batch's longest answer ends)",
    ]
    if differing:
        first = differing[0]
        notes.append(
            f"{len(differing)} of {len(prompts)} answers differ; first at question {first}: "
            f"batched {batched['answers'][first][:80]!r} vs single {single['answers'][first][:80]!r}"
        )
    common.report(NAME, "quick" if args.quick else "default", "batched vs one-at-a-time greedy generation", body,
                  figures, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
