"""LoRA training throughput and model FLOPs utilisation of a Llama-3.1-8B-shaped model on one GPU.

    python -m benchmarks.gpu_mfu                   # 32 layers, sequence 2048, batch 2, 3 + 10 steps
    python -m benchmarks.gpu_mfu --layers 4 --quick  # a quick check on a GPU: 4 layers, 2 + 3 steps
    python -m benchmarks.gpu_mfu --check-on-cpu    # a tiny model on the CPU: tests the script, no figures

Needs CUDA; without it the script prints a skip message (and a ``RESULT`` line with
``"skipped": true``) and exits 0. The model is randomly initialised with the Llama 3.1 8B
configuration (hidden 4096, intermediate 14336, 32 layers, 32 heads, 8 key-value heads,
vocabulary 128256, RoPE theta 500000 with Llama-3 scaling), no weights are downloaded. It
trains as the project trains on CUDA: bf16 weights, bf16 autocast, SDPA attention, LoRA
r=16 (alpha 32, no dropout) on every linear layer but the LM head, fused AdamW on the
adapter, random token batches of the full sequence length.

MFU = achieved model FLOP/s / 989e12, the dense bf16 peak of an H100 or H200 SXM (without
sparsity). Model FLOPs per token, for LoRA:

    4*N + 6*N_lora + 12*L*d*s

N: frozen weights in matrix products (every linear layer, LM head included): forward 2N and
backward 2N for the activation gradients only (frozen weights need no weight gradient; full
fine-tuning would be the usual 6N). N_lora: adapter weights, forward 2 and backward 4.
12*L*d*s: attention scores and values (QK^T, AV) over s positions in L layers of width d,
forward 4*L*d*s and backward twice that, not halved for the causal mask (as in PaLM's
6N + 12LHQT). Gradient checkpointing (``--checkpointing``) recomputes the forward; that work
is not counted, as usual for MFU.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from benchmarks import _common as common

NAME = "gpu_mfu"
PEAK_BF16_FLOPS = 989e12  # H100 / H200 SXM, dense bf16 tensor-core peak
FORMULA = "4*N + 6*N_lora + 12*L*d*s per token (LoRA; N: frozen matmul weights incl. LM head; s: sequence length)"


def llama_8b_config(layers: int) -> Any:
    """The Llama 3.1 8B architecture with ``layers`` decoder layers (32 in the real model)."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=128256,
        hidden_size=4096,
        intermediate_size=14336,
        num_hidden_layers=layers,
        num_attention_heads=32,
        num_key_value_heads=8,
        max_position_embeddings=131072,
        rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
        tie_word_embeddings=False,
        bos_token_id=128000,
        eos_token_id=128001,
    )


def tiny_config() -> Any:
    """A few-million-parameter Llama for ``--check-on-cpu``: same code path, no meaningful figures."""
    from transformers import LlamaConfig

    return LlamaConfig(vocab_size=1024, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)


def matmul_params(model: Any) -> int:
    import torch

    return sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))


def flops_per_token(n_frozen: int, n_lora: int, layers: int, width: int, seq: int) -> float:
    return 4 * n_frozen + 6 * n_lora + 12 * layers * width * seq


def build(config: Any, device: str, dtype: Any, rank: int, checkpointing: bool) -> tuple[Any, int, int]:
    """Random-initialised model on ``device`` with a LoRA adapter; returns it, N and N_lora."""
    import peft
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation="sdpa")
    n_frozen = matmul_params(model)
    model.config.use_cache = False
    if checkpointing:
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    lora = peft.LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules="all-linear",
                           bias="none", task_type="CAUSAL_LM")
    model = peft.get_peft_model(model, lora)
    n_lora = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return model, n_frozen, n_lora


def train_steps(model: Any, device: str, batch: int, seq: int, vocab: int, warmup: int, steps: int) -> float:
    """Seconds for ``steps`` optimiser steps after ``warmup`` untimed ones."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4, fused=device == "cuda")
    generator = torch.Generator(device=device).manual_seed(0)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda" else torch.autocast("cpu", enabled=False)
    model.train()

    def step() -> None:
        ids = torch.randint(0, vocab, (batch, seq), device=device, generator=generator)
        with autocast:
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(warmup):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--layers", type=int, default=32, help="decoder layers (default 32, as Llama 3.1 8B)")
    p.add_argument("--seq", type=int, default=2048, help="sequence length in tokens (default 2048)")
    p.add_argument("--batch", type=int, default=2, help="sequences per step (default 2)")
    p.add_argument("--rank", type=int, default=16, help="LoRA rank (default 16; alpha = 2 x rank)")
    p.add_argument("--warmup", type=int, help="untimed steps first (default 3; quick 2)")
    p.add_argument("--steps", type=int, help="timed steps (default 10; quick 3)")
    p.add_argument("--checkpointing", action="store_true", help="gradient checkpointing (less memory, more time)")
    p.add_argument("--check-on-cpu", action="store_true", help="a tiny model on the CPU: tests the script only")
    args = p.parse_args(argv)
    common.quiet()
    common.apply_threads(args.threads)
    import torch

    mode = "check-on-cpu" if args.check_on_cpu else ("quick" if args.quick else "default")
    if not torch.cuda.is_available() and not args.check_on_cpu:
        print(f"{NAME}: skipped: CUDA is not available (this benchmark needs an NVIDIA GPU; "
              "--check-on-cpu runs a tiny model on the CPU to test the script)")
        print(common.result_line(NAME, mode, {"skipped": True, "reason": "CUDA is not available"}, common.machine()))
        return 0

    warmup = args.warmup if args.warmup is not None else (2 if args.quick or args.check_on_cpu else 3)
    steps = args.steps or (3 if args.quick or args.check_on_cpu else 10)
    if args.check_on_cpu:
        device, dtype, config, seq, batch = "cpu", torch.float32, tiny_config(), min(args.seq, 128), 1
    else:
        device, dtype, config, seq, batch = "cuda", torch.bfloat16, llama_8b_config(args.layers), args.seq, args.batch
        torch.backends.cuda.matmul.allow_tf32 = True  # only the fp32 adapter optimiser would use it

    common.progress(f"{NAME}: building a {config.num_hidden_layers}-layer model on {device} ...")
    try:
        model, n_frozen, n_lora = build(config, device, dtype, args.rank, args.checkpointing)
        common.progress(f"{NAME}: {warmup} warm-up and {steps} timed steps of {batch} x {seq} tokens ...")
        seconds = train_steps(model, device, batch, seq, config.vocab_size, warmup, steps)
    except torch.cuda.OutOfMemoryError:
        print(f"{NAME}: out of GPU memory at batch {batch} x {seq}: try --batch 1 or --checkpointing", file=sys.stderr)
        return 1

    width = config.num_attention_heads * (config.head_dim or config.hidden_size // config.num_attention_heads)
    per_token = flops_per_token(n_frozen, n_lora, config.num_hidden_layers, width, seq)
    tokens = batch * seq * steps
    tokens_per_s = tokens / seconds
    achieved = tokens_per_s * per_token
    figures = {
        "layers": config.num_hidden_layers,
        "seq": seq,
        "batch": batch,
        "lora_rank": args.rank,
        "checkpointing": args.checkpointing,
        "warmup_steps": warmup,
        "timed_steps": steps,
        "seconds": seconds,
        "step_seconds": seconds / steps,
        "tokens_per_s": tokens_per_s,
        "n_frozen_matmul_params": n_frozen,
        "n_lora_params": n_lora,
        "flops_per_token": per_token,
        "achieved_tflops": achieved / 1e12,
        "peak_tflops": PEAK_BF16_FLOPS / 1e12,
        "mfu": achieved / PEAK_BF16_FLOPS,
        "formula": FORMULA,
        "max_memory_gib": torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None,
    }
    rows = [[config.num_hidden_layers, f"{batch} x {seq}", steps, seconds / steps, tokens_per_s, achieved / 1e12,
             achieved / PEAK_BF16_FLOPS]]
    body = common.table(["layers", "batch x seq", "steps", "s / step", "tokens/s", "TFLOP/s", "MFU"], rows)
    notes = [
        f"model FLOPs per token = {FORMULA} = {per_token / 1e9:.2f} GFLOP "
        f"(N = {n_frozen / 1e9:.3f} B, N_lora = {n_lora / 1e6:.1f} M)",
        f"MFU against {PEAK_BF16_FLOPS / 1e12:.0f} TFLOP/s, the dense bf16 peak of an H100/H200 SXM",
    ]
    if args.check_on_cpu:
        notes.append("--check-on-cpu: a tiny fp32 model on the CPU; the figures test the script, they mean nothing")
    common.report(NAME, mode, "LoRA training of a Llama-3.1-8B-shaped model", body, figures, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
