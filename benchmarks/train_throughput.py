"""Training tokens/s of the project's SFT trainer versus a minimal hand-written PEFT loop.

    python -m benchmarks.train_throughput            # 32 pairs, batch 8, 1 epoch, 3 rounds
    python -m benchmarks.train_throughput --quick    # 8 pairs, batch 4, 1 round

Both sides train the same LoRA adapter (same seed, rank 16 on all linear layers) of the
default SmolLM2-135M model on the same batches of the pre-tokenised training split:

- project: ``study.finetune.model.attach_adapter`` (on the CPU its LoRA dropout draws 16 random bits
  an element: ``study.finetune.lora_dropout``), ``study.finetune.training.build_trainer`` (TRL's ``SFTTrainer``
  with the project's CPU loss: the vocabulary head only at positions that predict an answer
  token, the rows' common start computed once: ``study.finetune.logits.answer_logits``) and
  ``trainer.train()``; its data collator is wrapped to record the batches it trains on;
- hand loop: those recorded batches through a plain PEFT model (``peft.get_peft_model``, its
  ``nn.Dropout``), ``torch.optim.AdamW``, linear learning-rate decay, gradient clipping at
  1.0, ``model(**batch).loss.backward()`` (logits at every position); no Trainer;
- a third arm, the same SFT trainer with ``transformers.Trainer.compute_loss`` (the model's own
  cross-entropy, logits at every position): what the project's loss saves inside one trainer.

The rounds alternate (trainer, plain-loss trainer, loop, ...) and the best round of each counts,
which keeps a burst of load from another process from deciding the ratio. Also reports the
achieved FLOP/s as a share of this machine's measured fp32 matmul peak (a 2048x2048 matmul
timed in the same run); the FLOP formula is printed with the figures.
"""

from __future__ import annotations

import sys
import tempfile
import time
from typing import Any

from benchmarks import _common as common

NAME = "train_throughput"
GOAL_RATIO = 0.9


def matmul_peak(n: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of the best of ``repeats`` fp32 ``n x n`` matmuls (2 n^3 FLOPs each): the practical peak."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)  # first call: thread pool and allocator warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def matmul_params(model: Any) -> int:
    """Weights used in a matrix product per token: every ``nn.Linear`` (the tied LM head included)."""
    import torch

    return sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))


def batch_flops(batch: dict[str, Any], n_frozen: int, n_lora: int, layers: int, attn_width: int) -> float:
    """Model FLOPs of one LoRA training step on ``batch`` (see ``FLOP_FORMULA``)."""
    lengths = batch["attention_mask"].sum(dim=1).tolist()  # real tokens per row
    per_token = 4 * n_frozen + 6 * n_lora
    return float(sum(n * (per_token + 12 * layers * attn_width * n) for n in lengths))


FLOP_FORMULA = (
    "FLOPs per token = 4*N + 6*N_lora + 12*L*d*s. N: frozen weights in matrix products (all Linear layers, "
    "the LM head included); forward 2N, backward 2N for the activation gradients only (frozen weights need no "
    "weight gradient). N_lora: adapter weights, forward 2, backward 4 (activation and weight gradients). "
    "12*L*d*s: attention scores and weighted values (QK^T, AV) forward 4*L*d*s and backward twice that, "
    "with d the attention width and s the row's real length (not halved for the causal mask, as in PaLM's "
    "6N + 12LHQT). Tokens are real tokens (attention mask), not padding."
)


class RecordingCollator:
    """Wraps a data collator and keeps a copy of every batch it builds."""

    def __init__(self, collator: Any) -> None:
        self.collator = collator
        self.batches: list[dict[str, Any]] = []

    def __call__(self, features: Any) -> dict[str, Any]:
        batch = self.collator(features)
        self.batches.append({k: v.clone() for k, v in batch.items()})
        return batch


class StepClock:
    """Trainer callback: seconds spent inside optimiser steps (forward, backward, update)."""

    def __init__(self) -> None:
        from transformers import TrainerCallback

        clock = self

        class _Callback(TrainerCallback):
            def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                clock._start = time.perf_counter()

            def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
                clock.seconds += time.perf_counter() - clock._start

        self.callback = _Callback()
        self.seconds = 0.0
        self._start = 0.0


def run_trainer(bench: Any, cfg: Any, dataset: Any, plain_loss: bool = False) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """One ``trainer.train()`` of the project's SFT trainer; returns its timings and the batches it used.

    ``plain_loss``: use ``transformers.Trainer.compute_loss`` (the model's cross-entropy, logits at every
    position) instead of the project's.
    """
    import types

    from transformers import Trainer

    from study.finetune.model import attach_adapter, detach_adapter
    from study.finetune.training import build_trainer

    peft_model = attach_adapter(bench.base, cfg.lora, seed=cfg.training.seed)
    clock = StepClock()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-train-") as out:
            with common.timed() as setup:
                trainer = build_trainer(peft_model, bench.base.tokenizer, dataset, cfg, out, bench.base.device,
                                        [clock.callback])
                recorder = RecordingCollator(trainer.data_collator)
                trainer.data_collator = recorder
                if plain_loss:
                    trainer.compute_loss = types.MethodType(Trainer.compute_loss, trainer)
            with common.timed() as t:
                output = trainer.train()
            del trainer
    finally:
        bench.base.model = detach_adapter(peft_model)
    return {"seconds": t.wall, "cpu_seconds": t.cpu, "step_seconds": clock.seconds, "setup_seconds": setup.wall,
            "loss": float(output.training_loss)}, recorder.batches


def run_hand_loop(bench: Any, cfg: Any, batches: list[dict[str, Any]]) -> dict[str, float]:
    """The same batches through a plain PEFT loop: AdamW, linear decay, clipping, no Trainer."""
    import peft
    import torch

    from study.finetune.model import detach_adapter, peft_lora_config

    t_cfg = cfg.training
    torch.manual_seed(t_cfg.seed)
    peft_model = peft.get_peft_model(bench.base.model, peft_lora_config(cfg.lora))  # plain PEFT, its nn.Dropout
    step_seconds, total = 0.0, 0.0
    try:
        with common.timed() as t:
            params = [p for p in peft_model.parameters() if p.requires_grad]
            optimizer = torch.optim.AdamW(params, lr=t_cfg.learning_rate, weight_decay=t_cfg.weight_decay)
            steps = len(batches)
            schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / steps))
            peft_model.train()
            for batch in batches:
                start = time.perf_counter()
                loss = peft_model(**batch).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, t_cfg.max_grad_norm)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad(set_to_none=True)
                total += loss.detach().item()
                step_seconds += time.perf_counter() - start
    finally:
        bench.base.model = detach_adapter(peft_model)
    return {"seconds": t.wall, "cpu_seconds": t.cpu, "step_seconds": step_seconds, "setup_seconds": 0.0,
            "loss": total / max(len(batches), 1)}


def warm_up(bench: Any, cfg: Any) -> None:
    """One untimed forward and backward so that neither side pays the first call's set-up."""
    import torch

    from study.finetune.model import attach_adapter, detach_adapter

    peft_model = attach_adapter(bench.base, cfg.lora, seed=0)
    try:
        ids = torch.randint(0, 1000, (2, 32))
        peft_model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=ids).loss.backward()
    finally:
        bench.base.model = detach_adapter(peft_model)


def same_batches(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    import torch

    return len(a) == len(b) and all(x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x) for x, y in zip(a, b))


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--examples", type=int, help="training pairs (default 32; quick 8)")
    p.add_argument("--batch-size", type=int, help="pairs per step (default 8; quick 4)")
    p.add_argument("--rounds", type=int, help="alternating rounds of the three arms (default 3; quick 1)")
    args = p.parse_args(argv)
    common.quiet()
    common.apply_threads(args.threads)
    examples = args.examples or (8 if args.quick else 32)
    batch_size = args.batch_size or (4 if args.quick else 8)
    rounds = args.rounds or (1 if args.quick else 3)

    from study.finetune.workbench import Workbench

    cfg = common.trial_config(
        data={"max_train_examples": examples, "max_val_examples": 1, "max_seq_length": 192},
        lora={"rank": 16, "alpha": 32.0, "dropout": 0.05, "target_modules": "all_linear"},
        training={"epochs": 1, "batch_size": batch_size, "learning_rate": 2e-4, "scheduler": "linear"},
    )
    bench = Workbench.load(cfg, bertscore=False)
    dataset = bench.tokens.train_dataset(bench.splits.train, cfg.data.system_prompt, cfg.data.max_seq_length)
    warm_up(bench, cfg)
    peak = matmul_peak()

    trainer_runs: list[dict[str, float]] = []
    plain_runs: list[dict[str, float]] = []
    loop_runs: list[dict[str, float]] = []
    batches: list[dict[str, Any]] = []
    batches_match = True
    load_before = common.load_avg()
    for r in range(rounds):
        common.progress(f"{NAME}: round {r + 1}/{rounds}: SFT trainer ...")
        run, used = run_trainer(bench, cfg, dataset)
        trainer_runs.append(run)
        if not batches:
            batches = used
        batches_match = batches_match and same_batches(batches, used)
        common.progress(f"{NAME}: round {r + 1}/{rounds}: SFT trainer with Trainer.compute_loss ...")
        run, used = run_trainer(bench, cfg, dataset, plain_loss=True)
        plain_runs.append(run)
        batches_match = batches_match and same_batches(batches, used)
        common.progress(f"{NAME}: round {r + 1}/{rounds}: hand-written loop ...")
        loop_runs.append(run_hand_loop(bench, cfg, batches))
    peak_after = matmul_peak()

    base = bench.base.model
    n_frozen = matmul_params(base)
    from study.finetune.model import attach_adapter, detach_adapter

    probe = attach_adapter(bench.base, cfg.lora, seed=0)
    n_lora = sum(p.numel() for p in probe.parameters() if p.requires_grad)
    bench.base.model = detach_adapter(probe)
    mc = base.config
    attn_width = mc.num_attention_heads * getattr(mc, "head_dim", mc.hidden_size // mc.num_attention_heads)
    tokens = int(sum(int(b["attention_mask"].sum()) for b in batches))
    slots = int(sum(b["input_ids"].numel() for b in batches))
    flops = sum(batch_flops(b, n_frozen, n_lora, mc.num_hidden_layers, attn_width) for b in batches)
    best_peak = max(peak, peak_after)

    def summary(runs: list[dict[str, float]]) -> dict[str, float]:
        best = min(runs, key=lambda r: r["seconds"])
        return {
            "tokens_per_s": tokens / best["seconds"],
            "step_tokens_per_s": tokens / best["step_seconds"],
            "seconds": best["seconds"],
            "step_seconds": best["step_seconds"],
            "setup_seconds": best["setup_seconds"],
            "all_seconds": [r["seconds"] for r in runs],
            "flops_per_s": flops / best["seconds"],
            "peak_fraction": flops / best["seconds"] / best_peak,
            "loss": best["loss"],
        }

    trainer, plain, loop = summary(trainer_runs), summary(plain_runs), summary(loop_runs)
    ratio = common.ratio(trainer["tokens_per_s"], loop["tokens_per_s"])
    plain_ratio = common.ratio(plain["tokens_per_s"], loop["tokens_per_s"])
    figures = {
        "examples": examples,
        "batch_size": batch_size,
        "steps": len(batches),
        "rounds": rounds,
        "tokens": tokens,
        "padded_tokens": slots,
        "trainer_tokens_per_s": trainer["tokens_per_s"],
        "loop_tokens_per_s": loop["tokens_per_s"],
        "ratio": ratio,
        "goal_ratio": GOAL_RATIO,
        "goal_met": ratio >= GOAL_RATIO,
        "step_ratio": common.ratio(trainer["step_tokens_per_s"], loop["step_tokens_per_s"]),
        "plain_loss_trainer_tokens_per_s": plain["tokens_per_s"],
        "plain_loss_ratio": plain_ratio,
        "trainer": trainer,
        "plain_loss_trainer": plain,
        "loop": loop,
        "same_batches_every_round": batches_match,
        "n_frozen_matmul_params": n_frozen,
        "n_lora_params": n_lora,
        "model_flops": flops,
        "matmul_peak_flops_per_s": best_peak,
        "matmul_peak_first_last": [peak, peak_after],
        "flop_formula": FLOP_FORMULA,
        "load_avg_before": load_before,
        "load_avg_after": common.load_avg(),
    }
    rows = [
        [name, s["seconds"], s["step_seconds"], s["tokens_per_s"], s["step_tokens_per_s"], s["flops_per_s"] / 1e9,
         s["peak_fraction"], s["loss"]]
        for name, s in (("SFT trainer (project)", trainer), ("SFT trainer, full-logits loss", plain),
                        ("hand-written loop", loop))
    ]
    body = common.table(
        ["training", "seconds", "in steps", "tokens/s", "tokens/s in steps", "GFLOP/s", "of peak", "mean loss"], rows
    )
    body += (
        f"\n{tokens} real tokens ({slots} with padding) in {len(batches)} steps; best of {rounds} round(s)"
        f"\ntrainer / loop = {ratio:.3f} (goal >= {GOAL_RATIO}); inside steps only: {figures['step_ratio']:.3f}; "
        f"with the full-logits Trainer.compute_loss: {plain_ratio:.3f}"
        f"\nmatmul peak {best_peak / 1e9:.1f} GFLOP/s (fp32 2048x2048, {common.machine()['torch_threads']} threads)"
    )
    notes = [
        FLOP_FORMULA,
        f"N = {n_frozen / 1e6:.1f} M, N_lora = {n_lora / 1e6:.2f} M: {4 * n_frozen + 6 * n_lora:.3g} FLOPs per token "
        "before attention.",
        "FLOP/s count the full model's FLOPs for every arm (the MFU convention); the project's loss skips the "
        "vocabulary head at prompt positions and runs the rows' shared system turn once a batch, so its figure "
        "counts FLOPs it saved as done: read it as useful work per second, comparable between the arms.",
        "seconds: the whole trainer.train() (or loop) call; 'in steps': forward, backward and optimiser steps only.",
    ]
    if not batches_match:
        notes.append("the trainer's batches differed between rounds; the loop used those of round 1")
    common.report(NAME, "quick" if args.quick else "default", "SFT trainer vs hand-written PEFT loop", body,
                  figures, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
