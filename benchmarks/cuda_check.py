"""The CUDA path of a trial, checked in one run on a GPU machine: bf16 training, generation, memory, QLoRA.

    python -m benchmarks.cuda_check --prepare .gpu/model   # here: SmolLM2's config and tokenizer (~3 MB)
    python -m benchmarks.cuda_check --model .gpu/model     # on the GPU machine: the checks
    python -m benchmarks.cuda_check --model .gpu/model --device cpu --quick   # the same checks on the CPU

The bundled GGUF (94 MB) is too large to carry to a device machine, so ``--prepare`` saves
the default model's configuration and tokenizer only, and the check gives that shape
random weights (seed 0) there; nor can the BERTScore encoder (88 MB) travel, so the
trials score without it. Answers are therefore meaningless; what is checked is the
code path that a study runs on CUDA, with the project's own functions:

- ``trial``: ``run_trial`` of a short configuration (LoRA on all linear layers, 2 epochs, the
  pruner's checks twice an epoch) on one ``Workbench``: the base model is bf16, the
  trainer uses bf16 and fused AdamW, the losses are finite; its seconds.
- ``generation``: ``generate_answers`` with batch 8 (left padding, shared prefix) against
  batch 1, greedy, with the trained adapter: how many answers are identical; and the
  evaluation's one pass (``answers_and_logprobs``: generation from the eval-loss pass's
  cache) against ``generate_answers`` and ``label_logprobs``: identical answers, loss gap.
- ``memory``: CUDA memory allocated after each of several trials, against the level after
  loading (the goal: back to it).
- ``qlora``: where bitsandbytes imports, one trial with ``quantization: 4bit``.

Prints a table and one ``RESULT`` line; without CUDA (and without ``--device cpu``) it says
so and exits 0.
"""

from __future__ import annotations

import math
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks import _common as common

NAME = "cuda_check"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")


def prepare(target: Path) -> None:
    """Copy the default model's configuration and tokenizer (no weights) into ``target``."""
    from study.finetune.gguf import prepare_default_model

    source = prepare_default_model()
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "generation_config.json", *TOKENIZER_FILES):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    print(f"{NAME}: wrote {target} ({sum(f.stat().st_size for f in target.iterdir()) / 2**20:.1f} MiB)")


def random_weights(shape_dir: Path, out: Path) -> Path:
    """A model of ``shape_dir``'s configuration with random weights (seed 0), saved with its tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(shape_dir))
    model.save_pretrained(out)
    for name in ("generation_config.json", *TOKENIZER_FILES):
        if (shape_dir / name).is_file():
            shutil.copy2(shape_dir / name, out / name)
    return out


def short_config(model_dir: Path, device: str, quick: bool, quantization: str = "none") -> Any:
    train, val = (8, 4) if quick else (32, 16)
    return common.trial_config(
        device=device,
        model={"name": str(model_dir), "quantization": quantization},
        data={"max_train_examples": train, "max_val_examples": val, "max_seq_length": 192},
        lora={"rank": 16, "alpha": 32.0, "dropout": 0.05, "target_modules": "all_linear"},
        training={"epochs": 2, "batch_size": 4, "learning_rate": 3e-4},
        decoding={"do_sample": False, "max_new_tokens": 12 if quick else 32, "batch_size": 8},
    )


class Recorder:
    """Trial monitor that notes each check's eval loss and never prunes."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def after_check(self, check: int, evaluation: Any) -> bool:
        self.losses.append(evaluation.metrics["eval_loss"])
        return False

    def after_chunk(self, first_question: int, evaluation: Any) -> bool:
        return False


def check_trial(bench: Any, cfg: Any) -> dict[str, Any]:
    """One trial with pruning checks; what precision and optimiser the trainer used; the adapter's answers."""
    import torch

    from study.finetune.evaluation import answers_and_logprobs, generate_answers, label_logprobs, mean_loss
    from study.finetune.training import sft_config
    from study.finetune.trial import run_trial

    with tempfile.TemporaryDirectory() as out:  # the arguments build_trainer gives the trainer on this device
        args = sft_config(cfg, out, bench.base.device, show_progress=False)
    seen = {"bf16": args.bf16, "optim": getattr(args.optim, "value", args.optim),
            "gradient_checkpointing": args.gradient_checkpointing}

    answers: dict[str, list[str]] = {}
    losses: dict[str, float] = {}

    def compare_generation(peft_model: Any) -> None:
        val = list(bench.splits.val)
        prompts = bench.tokens.prompts(val, cfg.data.instructions)
        examples = bench.tokens.examples(val, cfg.data.instructions, cfg.data.max_seq_length)
        tok = bench.base.tokenizer
        answers["batched"] = generate_answers(peft_model, tok, prompts, cfg.decoding)
        answers["single"] = generate_answers(peft_model, tok, prompts, replace(cfg.decoding, batch_size=1))
        answers["one_pass"], scored = answers_and_logprobs(peft_model, tok, prompts, examples, cfg.decoding)
        losses["one_pass"] = mean_loss(scored)
        losses["apart"] = mean_loss(label_logprobs(peft_model, examples, tok.pad_token_id))

    recorder = Recorder()
    with common.timed() as t:
        result = run_trial(cfg, bench, monitor=recorder, checks_per_epoch=2, full_eval_every_check=False,
                           on_trained=compare_generation)
    same = sum(a == b for a, b in zip(answers["batched"], answers["single"]))
    return {
        "seconds": t.wall,
        "train_seconds": result.metrics["train_seconds"],
        "base_dtype": str(bench.base.model.dtype).removeprefix("torch."),
        "trainer": seen,
        "train_loss": result.metrics["train_loss"],
        "eval_losses": recorder.losses,
        "finite": all(math.isfinite(x) for x in [result.metrics["train_loss"], *recorder.losses]),
        "identical_answers": same,
        "answers": len(answers["batched"]),
        "first_differing": next(([a, b] for a, b in zip(answers["batched"], answers["single"]) if a != b), None),
        "one_pass_identical_answers": sum(a == b for a, b in zip(answers["one_pass"], answers["batched"])),
        "one_pass_loss_gap": abs(losses["one_pass"] - losses["apart"]) / max(abs(losses["apart"]), 1e-12),
        "cuda_peak_mib": torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None,
    }


def allocated_mib() -> float | None:
    import torch

    return torch.cuda.memory_allocated() / 2**20 if torch.cuda.is_available() else None


def check_memory(bench: Any, cfg: Any, trials: int, after_loading: float | None) -> dict[str, Any]:
    """Allocated CUDA memory after each of ``trials`` more trials, against the level after loading."""
    from study.finetune.trial import run_trial

    after = []
    for _ in range(trials):
        run_trial(cfg, bench)
        after.append(allocated_mib())
    back = None if after_loading is None else all(abs(a - after_loading) < 1.0 for a in after)
    return {"after_loading_mib": after_loading, "after_trials_mib": after, "back_to_baseline": back}


def check_qlora(model_dir: Path, device: str, quick: bool) -> dict[str, Any]:
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is None:
        return {"ran": False, "why": "bitsandbytes is not installed (pip install -e '.[qlora]')"}
    if device != "cuda":
        return {"ran": False, "why": "QLoRA needs CUDA"}
    import torch

    from study.finetune.trial import run_trial
    from study.finetune.workbench import Workbench

    cfg = short_config(model_dir, device, quick, quantization="4bit")
    bench = Workbench.load(cfg, bertscore=False)
    with common.timed() as t:
        result = run_trial(cfg, bench)
    linear4 = sum(type(m).__name__ == "Linear4bit" for m in bench.base.model.modules())
    return {"ran": True, "seconds": t.wall, "train_loss": result.metrics["train_loss"],
            "eval_loss": result.metrics["eval_loss"], "linear4bit_layers": linear4,
            "cuda_peak_mib": torch.cuda.max_memory_allocated() / 2**20}


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--prepare", type=Path, metavar="DIR", help="write the model's configuration and tokenizer to DIR")
    p.add_argument("--model", type=Path, metavar="DIR", help="a directory written by --prepare")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="cuda (default), or cpu to test the script")
    p.add_argument("--memory-trials", type=int, help="trials of the memory check (default 5; quick 2)")
    args = p.parse_args(argv)
    if args.prepare:
        prepare(args.prepare)
        return 0
    if args.model is None:
        p.error("pass --model DIR (written by --prepare) or --prepare DIR")
    common.quiet()
    common.apply_threads(args.threads)
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"{NAME}: skipped: CUDA is not available on this machine")
        print(common.result_line(NAME, "skipped", {"skipped": True}, common.machine()))
        return 0

    from study.finetune.workbench import Workbench

    with tempfile.TemporaryDirectory(prefix="cuda-check-") as tmp:
        model_dir = random_weights(args.model, Path(tmp) / "model")
        cfg = short_config(model_dir, args.device, args.quick)
        common.progress(f"{NAME}: loading the workbench on {args.device} ...")
        bench = Workbench.load(cfg, bertscore=False)  # the encoder (88 MB) is too large to carry there
        after_loading = allocated_mib()
        common.progress(f"{NAME}: one trial, then batched and single generation ...")
        trial = check_trial(bench, cfg)
        common.progress(f"{NAME}: memory over trials ...")
        memory = check_memory(bench, cfg, args.memory_trials or (2 if args.quick else 5), after_loading)
        del bench
        common.progress(f"{NAME}: QLoRA ...")
        qlora = check_qlora(model_dir, args.device, args.quick)

    figures = {"device": args.device, "trial": trial, "memory": memory, "qlora": qlora}
    rows = [
        ["trial", f"{trial['seconds']:.1f} s; base {trial['base_dtype']}; trainer {trial['trainer']}; "
                  f"losses finite: {trial['finite']}"],
        ["generation", f"batched == one at a time: {trial['identical_answers']}/{trial['answers']}"],
        ["evaluation in one pass", f"answers == generate_answers: {trial['one_pass_identical_answers']}/"
                                   f"{trial['answers']}; eval loss relative gap {trial['one_pass_loss_gap']:.2e}"],
        ["memory", f"after loading {memory['after_loading_mib']} MiB; after trials {memory['after_trials_mib']}"],
        ["qlora", str(qlora)],
    ]
    common.report(NAME, "quick" if args.quick else "default", f"the CUDA path of a trial ({args.device})",
                  common.table(["check", "outcome"], rows), figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
